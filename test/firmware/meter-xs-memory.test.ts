/**
 * The meter's live XS heap over a day, held against an ESP32 nodemcu's: the firmware bundle in
 * XS (xsnap-worker) against a real broker, through six hours without the broker (the outbox
 * fills and drops its oldest reports) and a key rotation (two keys, two pools), every live slot
 * count taken after a full collection. The budget is the board's: mcconfig -p esp32/nodemcu
 * creates XS with 4,928 slots, of which 85% may be used (15% headroom). What the running meter
 * takes (its objects and the SDK's, connected, reporting, the pool full and the comb table built;
 * its code is preloaded, in flash) is measured in the SDK's lin build with the board's values
 * (LIN_STEADY_SLOTS); xsnap holds the same code as an evaluated script, in more
 * slots than the device would, so what it is trusted with here is how far the meter's own objects
 * grow above their steady state after the first hour: the full outbox, the second key, its pool
 * and its table. xsnap reports live slots only (currentHeapCount), not chunk bytes: the chunk
 * heap is checked on lin, where the fixed heap aborts when a chunk does not fit (docs/firmware.md).
 */
import test from 'ava';
import mqtt from 'mqtt';
import { bytesToHex } from '../../firmware/bytes.ts';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import { packingFor } from '../../firmware/meter/meter.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { bundle, startXsWorker } from '../../host/xs/harness.ts';
import { generateSigningKey, signKeyAnnouncement } from '../../host/keys/signing.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { until } from '../helpers/poll.ts';
import { drain, startXsMeter } from './helpers/fleet.ts';

/** mcconfig -p esp32/nodemcu: XS creation 78848,0,4928,0,768. */
const NODEMCU_SLOTS = 4928;
/**
 * Live slots of the lin build with the board's values (manifests/lin-nodemcu, the bundle
 * preloaded): the largest count of its hour with a rotation and an outage (docs/firmware.md).
 */
const LIN_STEADY_SLOTS = 888;
/** What the meter may grow by beyond its steady state. */
const BUDGET_SLOTS = Math.floor(NODEMCU_SLOTS * 0.85) - LIN_STEADY_SLOTS;

const START = Date.UTC(2026, 2, 14, 0, 0, 0);
const SLOT_MS = 900_000;
const HOUR_MS = 3_600_000;
const FIRST = START / SLOT_MS;

test('a day with an outage that fills the outbox and a key rotation stays within 85% of a nodemcu’s XS slots', async (t) => {
  t.timeout(150_000, 'a simulated day of 2048-bit encryptions in XS under two keys');
  const [oldPair, newPair] = [testKeyPair(0), testKeyPair(1)];
  const signer = generateSigningKey();
  const loaded = await startXsWorker({ bundle: await bundle('firmware/platform/xs-sim/main.ts') });
  const firmwareSlots = await loaded.liveSlots();
  await loaded.close();

  const { broker, config, collector, fleet } = await startXsMeter(t, oldPair.publicKey, START, {
    slotSeconds: 900,
    sampleMs: 10_000,
    packing: { readings: 15 },
    signingKey: bytesToHex(signer.publicKey),
    reconnectMaxMs: 60_000,
  });
  const id = config.meterId;
  const samples: { hour: number; slots: number }[] = [];
  const measure = async (hour: number) => samples.push({ hour, slots: (await fleet.liveSlots()) - firmwareSlots });
  const advanceTo = async (toMs: number) => {
    for (let at = (Math.floor(fleet.now / SLOT_MS) + 1) * SLOT_MS; at <= toMs; at += SLOT_MS) {
      await fleet.advanceTo(at);
      await fleet.settle();
      await measure((at - START) / HOUR_MS);
    }
  };

  // Connected first: the connect's work (subscriptions, the health status) must not fall between
  // the two calls that measure what a measurement itself costs.
  await until(async () => (await fleet.stats(id)).connected, 'the meter connected');
  await fleet.settle();
  await measure(0);
  await advanceTo(START + 6 * HOUR_MS);
  await drain(fleet);
  await broker.stop();
  await advanceTo(START + 12 * HOUR_MS);
  const full = await fleet.stats(id);
  // 10 reports: what the default partition holds beside the comb table (firmware/meter/randomness.ts).
  t.is(full.outboxSize, 10, 'the outbox holds what the board’s storage holds');
  t.is(full.outboxDropped, 24 - 10);
  t.is(full.combTableKeyId, oldPair.publicKey.keyId, 'the comb table is in the storage, not the heap');
  const outboxFullSlots = samples.at(-1)!.slots;

  await broker.start();
  await until(() => collector.subscribed, 'collector back');
  // The meter's next connection attempt (at most a minute away), and the backlog acknowledged
  // before the next slot closes.
  for (let at = fleet.now + 10_000; at <= START + 12 * HOUR_MS + 120_000; at += 10_000) {
    await fleet.advanceTo(at);
    await fleet.settle();
  }
  await drain(fleet);
  const client = await mqtt.connectAsync(broker.url);
  const effectiveSlot = FIRST + 14 * 4;
  const announcement = signKeyAnnouncement(signer, { publicKey: newPair.publicKey, previousKeyId: oldPair.publicKey.keyId, effectiveSlot });
  await client.publishAsync(KEY_ANNOUNCEMENT_TOPIC, JSON.stringify(announcement), { qos: 1, retain: true });
  await client.endAsync();
  await advanceTo(START + 13 * HOUR_MS);
  await drain(fleet);
  const rotating = await fleet.stats(id);
  t.is(rotating.announcementsAccepted, 1);
  t.is(rotating.nextKeyId, newPair.publicKey.keyId);
  await advanceTo(START + 24 * HOUR_MS);
  await drain(fleet);

  const stats = await fleet.stats(id);
  t.is(stats.keyId, newPair.publicKey.keyId);
  t.is(stats.reportsCreated, 96);
  t.is(stats.outboxDropped, 14);
  t.is(stats.storageFull, 0, 'the reserve kept room for the key schedule and checkpoints');
  const reports = collector.distinct(id);
  t.is(reports.length, 96 - 14);
  t.is(reports.at(-1)!.dropped, 14, 'the provider learns of the drops');
  const packing = packingFor(config);
  for (const r of reports) {
    const pair = r.slot >= effectiveSlot ? newPair : oldPair;
    t.is(r.keyId, pair.publicKey.keyId);
    t.true(packing.unpack(pair.privateKey.decrypt(ciphertextFromBytes(pair.publicKey, r.ciphertext))).every((mwh) => mwh >= 0n));
  }

  const peak = Math.max(...samples.map((s) => s.slots));
  const at = (hour: number) => samples.find((s) => s.hour === hour)!.slots;
  const growth = peak - at(1);
  t.log(
    `live slots of the meter's own (above ${firmwareSlots} with the bundle loaded): boot ${at(0)}, 6 h ${at(6)}, outbox full (12 h) ${outboxFullSlots}, ` +
      `rotation pending (13 h) ${at(13)}, 24 h ${at(24)}, peak ${peak}: growth after the first hour ${growth} of ${BUDGET_SLOTS} allowed (85% of ${NODEMCU_SLOTS} less ${LIN_STEADY_SLOTS} on lin)`,
  );
  t.true(
    growth <= BUDGET_SLOTS,
    `the meter grew by ${growth} live slots after its first hour, more than the ${BUDGET_SLOTS} the board leaves`,
  );
  // Levels as the largest sample of a span: a sample may catch the meter just after it let go of
  // something transient (seen 17 slots low on a loaded machine), never above what it holds.
  const level = (from: number, to: number) => Math.max(...samples.filter((s) => s.hour >= from && s.hour <= to).map((s) => s.slots));
  // The second key, and the simulation's storage, which holds in this heap what the device's NVS holds
  // in flash: the key schedule's record and one value per announced key (firmware/meter/key-schedule.ts).
  t.true(level(15, 24) <= level(1, 6) + 80, 'no growth over the day beyond the second key');
  // A leak of even one slot per report would add 20 over five hours of 15-minute slots.
  t.true(level(20, 24) <= level(15, 19) + 8, 'flat after the rotation');
});
