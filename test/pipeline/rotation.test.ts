/**
 * Key rotation mid-run with no slot lost: meters running the real firmware in XS, the embedded
 * broker, an aggregator and the provider with a key ring. The provider's signed announcement of
 * a new key for slot S is published retained (after a forged one, which the meters refuse);
 * every slot is decrypted exactly once, slots before S with the old key and from S on with the
 * new one, and every total equals what the households drew.
 */
import test from 'ava';
import { join } from 'node:path';
import { bytesToHex } from '../../firmware/bytes.ts';
import { publicKeyToJson } from '../../firmware/paillier/codec.ts';
import { runAggregator } from '../../host/aggregator/run.ts';
import { meterUser } from '../../host/config/identities.ts';
import { generateSigningKey, signKeyAnnouncement } from '../../host/keys/signing.ts';
import { publishKeyAnnouncement } from '../../host/keys/publish-announcement.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { runProvider } from '../../host/provider/run.ts';
import { expectedReadings } from '../firmware/helpers/expected.ts';
import { startWallClockFleet } from './support/wall-clock-fleet.ts';
import { deploy, ids, sharedKeyPair } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

test("a key announced for slot S: every slot before and after is decrypted once, with the right key, to the households' total", async (t) => {
  t.timeout(180_000, 'wall-clock slots before and after the announced slot, by XS meters');
  const members = ids('m', 4);
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }],
    extra: {
      // Real-time watermarks: room for a report delayed by a loaded machine. A slot every member
      // reported closes at once, so the room costs nothing when the machine keeps up.
      latenessSeconds: 20,
      packing: { readings: 1, maxPowerWatts: 23_000 },
      keys: { publicKeys: ['keys/public.json', 'keys/next/public.json'], privateKeys: ['keys/private.json', 'keys/next/private.json'] },
    },
  });
  t.teardown(() => d.cleanup());
  const [oldPair, newPair] = [await sharedKeyPair(), testKeyPair(1)];
  writeKeyPair(join(d.config.dataDir, 'keys/next'), newPair);
  const signer = generateSigningKey();
  const slotMs = d.config.slotSeconds * 1000;

  const provider = await runProvider(d.config);
  t.teardown(() => provider.stop());
  const aggregator = await runAggregator(d.config, 'street');
  t.teardown(() => aggregator.stop());

  const sensors = members.map((_, i) => ({ kind: 'simulated' as const, seed: 100 + i, yearlyKwh: 3000 + 500 * i, utcOffsetMinutes: 60 }));
  const configs = members.map((meterId, i) => ({
    meterId,
    publicKey: publicKeyToJson(oldPair.publicKey),
    macKey: d.secrets.meters[meterId].macKey,
    deviceKey: d.secrets.meters[meterId].deviceKey,
    broker: { url: d.config.broker.url, username: meterUser(meterId), password: d.secrets.meters[meterId].password },
    groups: ['street'],
    slotSeconds: d.config.slotSeconds,
    packing: { readings: 1, maxGroupSize: d.config.packing.maxGroupSize, maxPowerWatts: 23_000 },
    signingKey: bytesToHex(signer.publicKey),
    sensor: sensors[i],
  }));
  const { fleet, first, startMs, halt } = await startWallClockFleet(t, configs, d.config.slotSeconds, 4);

  const S = first + 3;
  const genuine = signKeyAnnouncement(signer, { publicKey: newPair.publicKey, previousKeyId: oldPair.publicKey.keyId, effectiveSlot: S });
  const forged = signKeyAnnouncement(generateSigningKey(), {
    publicKey: newPair.publicKey,
    previousKeyId: oldPair.publicKey.keyId,
    effectiveSlot: first + 2,
  });
  await publishKeyAnnouncement(d.config, forged);
  await until(() => members.every((m) => fleet.messagesDelivered(m) >= 1), 'the forgery delivered', 10_000);
  await publishKeyAnnouncement(d.config, genuine);
  await until(() => members.every((m) => fleet.messagesDelivered(m) >= 2), 'the announcement delivered', 10_000);

  const last = S + 2;
  await until(() => provider.store.series('street', last) !== undefined, `slot ${last} decrypted`, 40_000);
  await halt();

  for (const m of members) {
    const stats = await fleet.stats(m);
    t.deepEqual(stats.announcementsRefused, { 'bad-signature': 1 }, m);
    t.is(stats.announcementsAccepted, 1, m);
    t.is(stats.keyId, newPair.publicKey.keyId, m);
  }
  const expected = sensors.map((s) => expectedReadings(s, { startMs, sampleMs: 1000, subSlotMs: slotMs, subSlots: last - first + 1 }));
  const parts = provider.store.db.prepare('SELECT slot, key_id FROM series_parts WHERE group_id = ? ORDER BY slot').all('street') as {
    slot: number;
    key_id: string;
  }[];
  for (let slot = first; slot <= last; slot++) {
    const row = provider.store.series('street', slot);
    t.truthy(row, `slot ${slot} decrypted`);
    t.deepEqual(row!.contributors, members, `slot ${slot}: every meter`);
    const total = expected.reduce((sum, readings) => sum + BigInt(readings[slot - first]), 0n);
    t.is(row!.total, total, `slot ${slot}: the households' total`);
    const keyIds = parts.filter((p) => p.slot === slot).map((p) => p.key_id);
    t.deepEqual(keyIds, [slot < S ? oldPair.publicKey.keyId : newPair.publicKey.keyId], `slot ${slot}: one part, under the right key`);
  }
  t.false('already-decrypted' in provider.provider.counts.toJSON(), 'no slot decrypted twice');
});
