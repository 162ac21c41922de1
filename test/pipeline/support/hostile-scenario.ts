/**
 * Hostile inputs against a running pipeline, with valid traffic around them. Shared by the
 * embedded-broker and the mosquitto variants of the test.
 */
import type { ExecutionContext } from 'ava';
import { bigIntToBytes } from '../../../firmware/bytes.ts';
import { ciphertextToBytes } from '../../../firmware/paillier/codec.ts';
import { hmacSha256 } from '../../../firmware/protocol/mac.ts';
import { encodeReport, reportTopic } from '../../../firmware/protocol/report.ts';
import { runAggregator, type RunningAggregator } from '../../../host/aggregator/run.ts';
import { connected, connectRole, endClient } from '../../../host/mqtt/client.ts';
import { aggregatorUser, meterUser } from '../../../host/config/identities.ts';
import { encodeAggregate } from '../../../host/protocol/aggregate.ts';
import { aggregateTopic } from '../../../host/protocol/topics.ts';
import { slotAt, slotStartMs } from '../../../host/protocol/slots.ts';
import { runProvider } from '../../../host/provider/run.ts';
import type { Decrypted } from '../../../host/provider/provider.ts';
import { deploy, ids, type BrokerKind } from '../../../tools/pipeline/deployment.ts';
import { until } from '../../helpers/poll.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function hostileScenario(t: ExecutionContext, broker: BrokerKind): Promise<void> {
  // Two overlapping groups whose cells (m1..m3 shared, m4..m6 wide only) each hold k meters.
  const wide = ids('m', 6);
  const narrow = ids('m', 3);
  const small = ['s1', 's2', 's3'];
  const d = await deploy({
    broker,
    groups: [
      { id: 'wide', members: wide, feeder: 'feeder-wide', k: 3 },
      { id: 'narrow', members: narrow, feeder: 'feeder-narrow', k: 3 },
      { id: 'small', members: small, feeder: 'feeder-small', k: 3 },
    ],
    // The outage bound at the lateness: the small group's short slot is suppressed at its watermark.
    extra: { slotSeconds: 4, latenessSeconds: 2, outageSeconds: 2, skewSeconds: 4 },
  });
  t.teardown(() => d.cleanup());
  const { config, publicKey, secrets } = d;
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const aggregators = new Map<string, RunningAggregator>();
  for (const g of ['wide', 'narrow', 'small']) aggregators.set(g, await runAggregator(config, g));
  t.teardown(async () => {
    for (const a of aggregators.values()) await a.stop();
  });

  const groupsOf = (m: string) => config.groups.filter((g) => g.members.includes(m)).map((g) => g.id);
  // No resend within the test: the only duplicate the aggregator sees is the attacker's replay.
  const quiet = { resendMs: 60_000 };
  const meters = new Map(await Promise.all([...wide, 's1', 's2'].map(async (m) => [m, await d.meter(m, groupsOf(m), quiet)] as const)));
  const m1 = meters.get('m1')!;

  // Someone holding m1's credentials, on a session of its own.
  const attacker = connectRole({
    url: config.broker.url,
    username: meterUser('m1'),
    password: secrets.meters.m1.password,
    clientId: 'm1/attacker',
    persistent: false,
  });
  await connected(attacker);
  t.teardown(() => endClient(attacker));
  const attack = (bytes: Uint8Array, topic = reportTopic('wide', 'm1')) => attacker.publish(topic, Buffer.from(bytes), { qos: 0 });

  // Start at a fresh slot so the whole exchange fits in its window.
  const first = slotAt(Date.now(), config.slotSeconds) + 1;
  await sleep(slotStartMs(first, config.slotSeconds) - Date.now() + 20);
  const slot = slotAt(Date.now(), config.slotSeconds);
  const valid = m1.encode(slot, [7n]);
  const n = publicKey.n;
  const withCiphertext = (c: Uint8Array) =>
    encodeReport({ keyId: publicKey.keyId, meterId: 'm1', slot, seq: 900, dropped: 0, packed: 1, ciphertext: c }, m1MacKey(), hmacSha256);
  function m1MacKey() {
    return Uint8Array.from(Buffer.from(secrets.meters.m1.macKey, 'hex'));
  }

  attack(Uint8Array.from({ length: 100 }, () => 9)); // malformed: unknown version
  attack(valid.subarray(0, 20)); // truncated
  attack(new Uint8Array(2000)); // oversized
  attack(m1.encode(slot, [1n], { keyId: '0123456789abcdef' })); // wrong key id
  attack(withCiphertext(new Uint8Array(publicKey.ciphertextBytes).fill(0xff))); // >= n^2
  attack(withCiphertext(bigIntToBytes(n * 5n, publicKey.ciphertextBytes))); // multiple of n
  attack(m1.encode(slot, [1n], {}, new Uint8Array(32).fill(1))); // bad MAC
  attack(m1.encode(slot - 1000, [1n])); // far past
  attack(m1.encode(slot + 1000, [1n])); // far future
  attack(m1.encode(slot, [1n], { meterId: 'm2' }), reportTopic('narrow', 'm2')); // on another meter's topic
  // A meter posing as an aggregator.
  attacker.publish(
    aggregateTopic('wide'),
    Buffer.from(
      encodeAggregate({
        groupId: 'wide',
        slot: slot - 3,
        keyId: publicKey.keyId,
        packed: 1,
        count: 3,
        contributors: ['m1', 'm2', 'm3'],
        ciphertext: ciphertextToBytes(
          publicKey,
          publicKey.encrypt(1n, (len) => new Uint8Array(len).fill(3)),
        ),
      }),
    ),
    { qos: 0 },
  );

  // The attacker's connection and the meters' are not ordered with each other: let the attacks
  // land first, or m1's valid report would turn its forged twins into mere duplicates.
  const wideAgg = aggregators.get('wide')!.aggregator;
  const attacksOnM1 = 9;
  await until(() => [...wideAgg.rejections.totals.values()].reduce((a, b) => a + b, 0) >= attacksOnM1, 'the attacks to be counted', 10_000);

  // Valid traffic: m1's report is the one captured above; the others encrypt their own.
  const readings: Record<string, bigint> = { m1: 7n, m2: 20n, m3: 30n, m4: 40n, m5: 50n, m6: 60n, s1: 1n, s2: 2n };
  const sends = [m1.send(slot, valid), ...[...meters].filter(([id]) => id !== 'm1').map(([id, m]) => m.report(slot, [readings[id]]))];
  await Promise.all(sends);
  attack(valid); // replay of an acknowledged report

  // A forged aggregate below k from the wide group's own aggregator credentials.
  const forger = connectRole({
    url: config.broker.url,
    username: aggregatorUser('wide'),
    password: secrets.services[aggregatorUser('wide')],
    clientId: 'aggregator.wide/forger',
    persistent: false,
  });
  await connected(forger);
  t.teardown(() => endClient(forger));
  await forger.publishAsync(
    aggregateTopic('wide'),
    Buffer.from(
      encodeAggregate({
        groupId: 'wide',
        slot: slot - 2,
        keyId: publicKey.keyId,
        packed: 1,
        count: 2,
        contributors: ['m1', 'm2'],
        ciphertext: ciphertextToBytes(
          publicKey,
          publicKey.encrypt(5n, (len) => new Uint8Array(len).fill(4)),
        ),
      }),
    ),
    { qos: 1 },
  );

  await until(() => (wideAgg.rejections.totals.get('duplicate') ?? 0) >= 1, 'the replay to be counted', 10_000);
  await until(() => decrypted.length >= 2, 'the slot to close at the provider', 20_000);
  await until(() => aggregators.get('small')!.aggregator.status().openSlots.length === 0, 'the small group to close', 10_000);

  // Each attack on m1's topic counted once under its reason, nothing else; the report on m2's
  // topic never reached an aggregator (no meter-mismatch): the broker refused it.
  t.deepEqual(wideAgg.rejections.toJSON(), {
    'bad-mac': 1,
    'ciphertext-out-of-range': 2,
    duplicate: 1,
    oversized: 1,
    'slot-in-future': 1,
    'slot-too-old': 1,
    truncated: 1,
    'unsupported-version': 1,
    'wrong-key-id': 1,
  });
  t.is(aggregators.get('narrow')!.aggregator.rejections.totals.get('meter-mismatch') ?? 0, 0);
  // At least m2's topic: the broker drops the connection on a refused publication, so whether the
  // meter's aggregate (sent after it) reaches the broker depends on the reconnection.
  if (broker === 'embedded') t.true((d.refusals()!.get('publish-not-allowed') ?? 0) >= 1, 'the embedded broker refused a foreign topic');

  // Both overlapping groups were decrypted, and neither counts the replay twice.
  t.deepEqual(decrypted.map((x) => [x.groupId, x.slot, x.total]).sort(), [
    ['narrow', slot, 57n],
    ['wide', slot, 207n],
  ]);
  const refusals = provider.store.refusals(100);
  t.true(
    refusals.some((r) => r.reason === 'below-k' && r.slot === slot - 2),
    'the forged small aggregate was refused',
  );
  t.false(
    refusals.some((r) => r.slot === slot - 3),
    'the aggregate published by a meter never reached the provider',
  );
  t.is(provider.store.series('wide', slot - 2), undefined);

  // The small group had two reports for k = 3: suppressed, never published.
  const smallStore = aggregators.get('small')!;
  t.is(smallStore.aggregator.accepted, 2);
  t.false(decrypted.some((x) => x.groupId === 'small'));
}
