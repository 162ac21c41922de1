/**
 * Key rotation mid-run in threshold mode, with no slot lost: meters running the real firmware in
 * XS, the embedded broker, an aggregator, three custodians and the provider with a ring of two
 * real 2048-bit 2-of-3 threshold keys. Four meters take the announced key at slot S; two were
 * provisioned without the signing key and keep the old one, so every slot from S on comes in two
 * parts, one per key, each decrypted by the custodians with the share its key id names and summed
 * into one total. Custodian 3 has not yet received its share of the new key: it refuses those
 * requests by name, and custodians 1 and 2 suffice.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { bytesToHex } from '../../firmware/bytes.ts';
import { ciphertextToBytes, publicKeyToJson } from '../../firmware/paillier/codec.ts';
import { runAggregator } from '../../host/aggregator/run.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { aggregatorUser, meterUser } from '../../host/config/identities.ts';
import { runCustodian } from '../../host/custodian/run.ts';
import { generateSigningKey, signKeyAnnouncement } from '../../host/keys/signing.ts';
import { publishKeyAnnouncement } from '../../host/keys/publish-announcement.ts';
import { encodeAggregate } from '../../host/protocol/aggregate.ts';
import { slotAt } from '../../host/protocol/slots.ts';
import { aggregateTopic } from '../../host/protocol/topics.ts';
import { runProvider } from '../../host/provider/run.ts';
import { testThresholdKeySets } from '../helpers/test-keys.ts';
import { writeThresholdKeySet } from '../../host/threshold/key-files.ts';
import { expectedReadings } from '../firmware/helpers/expected.ts';
import { startWallClockFleet } from './support/wall-clock-fleet.ts';
import { deploy, ids, sharedKeyPair } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

test("threshold mode: a key announced for slot S; every slot decrypted once by the custodians, slots from S on in two parts under two keys, totals equal the households'", async (t) => {
  t.timeout(240_000, 'wall-clock slots before and after the announced slot, by XS meters, decrypted by three custodians');
  const [oldSet, newSet] = testThresholdKeySets(2, 3, 2);
  const stranger = await sharedKeyPair();
  const [oldKey, newKey] = [oldSet.publicKey.keyId, newSet.publicKey.keyId];
  const members = ids('m', 6);
  const ring = ['keys/public.json', 'keys/next/public.json'];
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }],
    threshold: { set: oldSet, timeoutMs: 5000, retryMs: 1000 },
    extra: {
      // Real-time watermarks: room for a report delayed by a loaded machine. A slot every member
      // reported closes at once, so the room costs nothing when the machine keeps up.
      latenessSeconds: 20,
      packing: { readings: 1, maxPowerWatts: 23_000 },
      keys: { publicKeys: ring },
      provider: { decryption: { mode: 'threshold', custodians: 3, threshold: 2, publicKeys: ring, timeoutMs: 5000, retryMs: 1000 } },
    },
  });
  t.teardown(() => d.cleanup());
  writeThresholdKeySet(join(d.config.dataDir, 'keys/next'), newSet);
  const signer = generateSigningKey();
  const slotMs = d.config.slotSeconds * 1000;

  const custodians = await Promise.all([
    runCustodian(d.config, [oldSet.shares[0], newSet.shares[0]], { waitForAggregateMs: 3000 }),
    runCustodian(d.config, [newSet.shares[1], oldSet.shares[1]], { waitForAggregateMs: 3000 }),
    runCustodian(d.config, oldSet.shares[2], { waitForAggregateMs: 3000 }),
  ]);
  t.teardown(async () => {
    for (const c of custodians) await c.stop();
  });
  const provider = await runProvider(d.config);
  t.teardown(() => provider.stop());
  const aggregator = await runAggregator(d.config, 'street');
  t.teardown(() => aggregator.stop());

  const switching = new Set(members.slice(0, 4));
  const sensors = members.map((_, i) => ({ kind: 'simulated' as const, seed: 300 + i, yearlyKwh: 2500 + 400 * i, utcOffsetMinutes: 60 }));
  const configs = members.map((meterId, i) => ({
    meterId,
    publicKey: publicKeyToJson(oldSet.publicKey.paillier),
    macKey: d.secrets.meters[meterId].macKey,
    deviceKey: d.secrets.meters[meterId].deviceKey,
    broker: { url: d.config.broker.url, username: meterUser(meterId), password: d.secrets.meters[meterId].password },
    groups: ['street'],
    slotSeconds: d.config.slotSeconds,
    packing: { readings: 1, maxGroupSize: d.config.packing.maxGroupSize, maxPowerWatts: 23_000 },
    ...(switching.has(meterId) ? { signingKey: bytesToHex(signer.publicKey) } : {}),
    sensor: sensors[i],
    custodians: oldSet.shares.length,
  }));
  const { fleet, first, startMs, halt } = await startWallClockFleet(t, configs, d.config.slotSeconds, 3);

  // Checked from the slot after the fleet is up: under load, the slot it boots in may close before its reports arrive.
  const from = slotAt(Date.now(), d.config.slotSeconds) + 1;
  const S = from + 2;
  await publishKeyAnnouncement(
    d.config,
    signKeyAnnouncement(signer, { publicKey: newSet.publicKey.paillier, previousKeyId: oldKey, effectiveSlot: S }),
  );
  await until(() => [...switching].every((m) => fleet.messagesDelivered(m) >= 1), 'the announcement delivered', 10_000);

  const last = S + 2;
  try {
    await until(
      () => provider.store.series('street', last)?.contributors.length === members.length,
      `both parts of slot ${last} decrypted`,
      50_000,
    );
  } catch (e) {
    t.log({
      from,
      S,
      last,
      now: slotAt(Date.now(), d.config.slotSeconds),
      provider: provider.provider.counts.toJSON(),
      refusals: provider.store.refusals(20),
      aggregator: aggregator.aggregator.rejections.toJSON(),
      custodians: custodians.map((c) => c.custodian.refusals.toJSON()),
      waiting: provider.store.waitingReservations().map((r) => [r.slot, r.keyId, r.attempts, r.reason]),
    });
    t.log(provider.store.seriesRange('street', from, last + 1).map((r) => [r.slot, r.contributors.join(' ')]));
    throw e;
  }
  await halt();

  // An aggregate under a key outside the ring is refused by name before any custodian is asked.
  const outsider = stranger.publicKey;
  const aggregatorClient = connectRole({
    url: d.config.broker.url,
    username: aggregatorUser('street'),
    password: d.secrets.services[aggregatorUser('street')],
    clientId: 'aggregator.street/test',
    persistent: false,
  });
  await connected(aggregatorClient);
  const c = outsider.add(...[1n, 2n].map((m) => outsider.encrypt(m, (n) => new Uint8Array(randomBytes(n)))));
  const foreign = {
    groupId: 'street',
    slot: last + 50,
    keyId: outsider.keyId,
    packed: 1,
    count: 2,
    contributors: members.slice(0, 2),
    ciphertext: ciphertextToBytes(outsider, c),
  };
  await aggregatorClient.publishAsync(aggregateTopic('street'), Buffer.from(encodeAggregate(foreign)), { qos: 1 });
  await endClient(aggregatorClient);
  await until(() => provider.provider.counts.totals.get('wrong-key-id') === 1, 'the foreign key refused', 10_000);

  for (const m of switching) t.is((await fleet.stats(m)).keyId, newKey, `${m} switched`);
  for (const m of members.filter((id) => !switching.has(id))) t.is((await fleet.stats(m)).keyId, oldKey, `${m} kept the old key`);
  const expected = sensors.map((s) => expectedReadings(s, { startMs, sampleMs: 1000, subSlotMs: slotMs, subSlots: last - first + 1 }));
  const parts = provider.store.db
    .prepare('SELECT slot, key_id, contributors FROM series_parts WHERE group_id = ? ORDER BY slot, key_id')
    .all('street') as { slot: number; key_id: string; contributors: string }[];
  for (let slot = from; slot <= last; slot++) {
    const row = provider.store.series('street', slot);
    t.truthy(row, `slot ${slot} decrypted`);
    t.deepEqual(row!.contributors, members, `slot ${slot}: every meter`);
    t.is(
      row!.total,
      expected.reduce((sum, readings) => sum + BigInt(readings[slot - first]), 0n),
      `slot ${slot}: the households' total`,
    );
    const byKey = Object.fromEntries(parts.filter((p) => p.slot === slot).map((p) => [p.key_id, JSON.parse(p.contributors)]));
    t.deepEqual(
      byKey,
      slot < S ? { [oldKey]: members } : { [oldKey]: ['m5', 'm6'], [newKey]: ['m1', 'm2', 'm3', 'm4'] },
      `slot ${slot}: its parts`,
    );
  }
  t.is(provider.store.countWaiting(), 0);
  const providerCounts = provider.provider.counts.toJSON();
  t.false(
    'already-decrypted' in providerCounts || 'overlapping-parts' in providerCounts || 'differencing' in providerCounts,
    JSON.stringify(providerCounts),
  );
  t.deepEqual(custodians[0].custodian.refusals.toJSON(), {});
  t.deepEqual(custodians[1].custodian.refusals.toJSON(), {});
  const third = custodians[2].custodian.refusals.toJSON();
  t.deepEqual(Object.keys(third), ['wrong-key-id'], 'custodian 3 holds no share of the new key and says so');
});
