/**
 * Readings that honest meters cannot produce (a real 2048-bit key, the embedded broker, the
 * provider as the deployment runs it): a tampered meter reporting n - x (a negative reading) or a
 * value past its packing slot. The provider refuses the total by name, raises an alert (a row in
 * /api/alerts), and counts the slot as decrypted, so that no second aggregate for it is ever decrypted.
 */
import test from 'ava';
import { logCollector } from '../helpers/log-collector.ts';
import { randomBytes } from 'node:crypto';
import { slotPackingFor } from '../../firmware/config/packing.ts';
import { ciphertextToBytes } from '../../firmware/paillier/codec.ts';
import { aggregatorUser } from '../../host/config/identities.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { aggregateTopic } from '../../host/protocol/topics.ts';
import { runProvider } from '../../host/provider/run.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { getJson } from './support/probe.ts';
import { recentSlot } from '../helpers/recent-slot.ts';

const random = (length: number) => new Uint8Array(randomBytes(length));

test('a negative or overflowing reading: the total is refused by name with an alert, and the slot is never decrypted again', async (t) => {
  const members = ids('m', 3);
  const d = await deploy({ groups: [{ id: 'g', members, feeder: 'f', k: 2 }] });
  t.teardown(() => d.cleanup());
  const key = d.publicKey;
  const S = (n: number) => recentSlot(n, d.config.slotSeconds);
  const packing = slotPackingFor(d.config.slotSeconds, d.config.packing, key.bits);
  const { log, logged } = logCollector();
  const provider = await runProvider(d.config, { log });
  t.teardown(() => provider.stop());
  const user = aggregatorUser('g');
  const aggregator = connectRole({ url: d.config.broker.url, username: user, password: d.secrets.services[user], persistent: false });
  await connected(aggregator);
  t.teardown(() => endClient(aggregator));
  // What an honest aggregator computes from the three reports: the product of their ciphertexts.
  const publish = (slot: number, readings: bigint[]) => {
    const aggregate: Aggregate = {
      groupId: 'g',
      slot,
      keyId: key.keyId,
      packed: 1,
      count: members.length,
      contributors: members,
      ciphertext: ciphertextToBytes(key, key.add(...readings.map((m) => key.encrypt(m, random)))),
    };
    return aggregator.publishAsync(aggregateTopic('g'), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
  };
  const refusal = (slot: number, reason: string) => provider.store.refusals(50).find((r) => r.slot === slot && r.reason === reason);

  // m1 encrypts n - 5, "minus 5": the sum wraps modulo n.
  await publish(S(100), [key.n - 5n, 2n, 1n]);
  await until(() => refusal(S(100), 'out-of-range-total') !== undefined, 'the negative reading to be refused', 20_000);
  t.is(provider.store.series('g', S(100)), undefined);
  t.true(
    logged.some(
      (l) =>
        l.level === 'warn' &&
        l.fields.alert === 'out-of-range-total' &&
        l.fields.slot === S(100) &&
        new RegExp(`ALERT g slot ${S(100)}: .*negative or overflowed`).test(l.msg),
    ),
  );
  t.false(refusal(S(100), 'out-of-range-total')!.detail.includes((key.n - 2n).toString()), 'the plaintext is not repeated');

  // A second aggregate for the slot (the aggregator trying again, or differencing) is not decrypted.
  await publish(S(100), [10n, 20n, 30n]);
  await until(() => refusal(S(100), 'already-decrypted') !== undefined, 'the second aggregate to be refused', 20_000);
  t.is(provider.store.series('g', S(100)), undefined);

  // m1 reports more than its packing slot holds: the slot's sum exceeds three honest readings.
  await publish(S(101), [packing.maxReading * 3n + 1n, 0n, 0n]);
  await until(() => refusal(S(101), 'out-of-range-total') !== undefined, 'the overflowing reading to be refused', 20_000);
  t.is(provider.store.series('g', S(101)), undefined);

  // Each raises a row in /api/alerts: no total (it is not kept), the refusal's words as detail.
  const alerts = (await getJson(`${provider.apiUrl}/api/alerts`)).body as Record<string, unknown>[];
  t.deepEqual(
    alerts.map((a) => [a.slot, a.kind]),
    [
      [S(101), 'out-of-range-total'],
      [S(100), 'out-of-range-total'],
    ],
  );
  for (const alert of alerts) {
    t.like(alert, { groupId: 'g', total: null, feeder: null, deviation: null, missing: 0 });
    t.is(alert.detail, refusal(alert.slot as number, 'out-of-range-total')!.detail);
  }
  t.regex(String(alerts[1].detail), /negative or overflowed/);

  // An honest slot still decrypts.
  await publish(S(102), [packing.maxReading, 1n, 0n]);
  await until(() => provider.store.series('g', S(102)) !== undefined, 'the honest slot', 20_000);
  t.is(provider.store.series('g', S(102))!.total, packing.maxReading + 1n);
});
