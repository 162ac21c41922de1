/**
 * Verifiable masked mode with one dishonest custodian: custodian 3 answers every request with its
 * honest mask sum plus an offset, without verifying anything. The masked scheme has no proof of a
 * mask sum (Paillier's partials have one), so the provider cannot tell a wrong sum from a right
 * one: the total it stores is off by the offset. What catches it is the measuring rod: a
 * deviation from the feeder's reading beyond the tolerance raises a `feeder-deviation` alert, and
 * an offset larger than the total wraps modulo 2^W into a value no readings can give
 * (`out-of-range-total`). An offset inside the tolerance goes unseen; docs/security.md says so.
 */
import test from 'ava';
import { custodianUser, feederUser } from '../../host/config/identities.ts';
import { meterMaskKey, servicePassword } from '../../host/config/secrets.ts';
import { runMaskedCustodian, type RunningCustodian } from '../../host/custodian/run.ts';
import { decodeRequest, encodeResponse } from '../../host/decryption/messages.ts';
import { custodianPartialTopic, DECRYPTION_REQUEST_TOPIC } from '../../host/decryption/topics.ts';
import { Feeder } from '../../host/feeder/feeder.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { maskedParamsOfConfig } from '../../host/scheme/of-config.ts';
import { maskSum } from '../../host/scheme/unmask.ts';
import { ids, type TestDeployment } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { GROUP, oneGroup, reportNextSlot } from './support/one-group.ts';

/** Custodian `index` as a liar: its own mask sum of the listed contributors, plus `offset()`, for any request. */
async function lyingCustodian(d: TestDeployment, index: number, offset: () => bigint) {
  const user = custodianUser(index);
  const client = connectRole({ url: d.config.broker.url, username: user, password: servicePassword(d.secrets, user), persistent: false });
  await connected(client);
  const params = maskedParamsOfConfig(d.config);
  const modulus = 1n << BigInt(params.bits);
  client.on('message', (_topic, payload) => {
    const { requestId, aggregate: a } = decodeRequest(payload);
    const honest = maskSum((m) => meterMaskKey(d.secrets, m, a.keyId, index), a.contributors, a.keyId, a.slot, params);
    const maskSumHex = ((honest + offset()) % modulus).toString(16);
    const answer = { requestId, index, groupId: a.groupId, slot: a.slot, status: 'mask-sum' as const, maskSum: maskSumHex };
    client.publish(custodianPartialTopic(index), Buffer.from(encodeResponse(answer)), { qos: 1 });
  });
  await client.subscribeAsync(DECRYPTION_REQUEST_TOPIC, { qos: 1 });
  return client;
}

test('a custodian adding an offset to its mask sum skews the total; the feeder comparison or out-of-range-total catches it, an offset inside the tolerance does not', async (t) => {
  t.timeout(60_000, 'three wall-clock slots');
  const custodians: RunningCustodian[] = [];
  t.teardown(async () => {
    for (const c of custodians) await c.stop();
  });
  let offset = 0n;
  const g = await oneGroup(t, {
    members: ids('mw', 4),
    k: 2,
    deploy: { masked: { custodians: 3, timeoutMs: 3000, retryMs: 1000 } },
    before: async (d) => {
      for (const index of [1, 2]) custodians.push(await runMaskedCustodian(d.config, index, { waitForAggregateMs: 2000 }));
      const liar = await lyingCustodian(d, 3, () => offset);
      t.teardown(() => endClient(liar));
    },
  });
  const { d, provider, decrypted } = g;
  const feederClient = connectRole({
    url: d.config.broker.url,
    username: feederUser(`feeder-${GROUP}`),
    password: d.secrets.services[feederUser(`feeder-${GROUP}`)],
    persistent: false,
  });
  await connected(feederClient);
  t.teardown(() => endClient(feederClient));
  // The line's meter measures what the households drew: the honest total.
  const drawn = new Map<number, bigint>();
  const feeder = new Feeder({
    feederId: `feeder-${GROUP}`,
    slotSeconds: d.config.slotSeconds,
    client: feederClient,
    measure: (s) => drawn.get(s),
  });

  const slotWith = async (lie: bigint, readings: bigint[]) => {
    offset = lie;
    const slot = await reportNextSlot(g, readings);
    drawn.set(
      slot,
      readings.reduce((a, b) => a + b),
    );
    feeder.publishSlot(slot);
    return slot;
  };
  // 30% off: the stored total is 700 of 1000 drawn, a feeder deviation.
  const skewed = await slotWith(300n, [100n, 200n, 300n, 400n]);
  await until(() => provider.store.alerts(10).some((a) => a.slot === skewed), 'the feeder-deviation alert', 15_000);
  t.is(decrypted.find((x) => x.slot === skewed)?.total, 700n, 'the provider cannot tell the wrong mask sum from a right one');
  t.like(
    provider.store.alerts(10).find((a) => a.slot === skewed),
    { kind: 'feeder-deviation', total: 700n, feeder: 1000n, deviation: 0.3 },
  );

  // More than the total: the difference wraps modulo 2^W to no total four readings can give.
  const wrapped = await slotWith(2000n, [10n, 20n, 30n, 40n]);
  await until(() => provider.store.alerts(10).some((a) => a.slot === wrapped), 'the out-of-range-total alert', 15_000);
  t.like(
    provider.store.alerts(10).find((a) => a.slot === wrapped),
    { kind: 'out-of-range-total', total: null },
  );

  // 2% off, inside the 5% tolerance: stored as a plausible total, no alert.
  const unseen = await slotWith(20n, [100n, 200n, 300n, 400n]);
  await until(() => decrypted.some((x) => x.slot === unseen), 'the third slot decrypted', 15_000);
  t.is(decrypted.find((x) => x.slot === unseen)?.total, 980n);
  await until(() => provider.store.feeder(GROUP, unseen) !== undefined, 'the feeder reading compared', 10_000);
  t.false(
    provider.store.alerts(10).some((a) => a.slot === unseen),
    'an offset inside the tolerance raises nothing',
  );
});
