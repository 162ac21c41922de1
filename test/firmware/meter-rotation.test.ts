/**
 * Key rotation on the meter, in Node (V8) and in the real XS engine, against a real broker: a
 * signed announcement published retained is verified, the new key's pool fills before the
 * switch, slots before the effective slot stay under the old key (also the ones still waiting in
 * the outbox) and from it on use the new one; a forged announcement changes nothing and is
 * counted by reason; the schedule survives a reboot.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { bytesToHex } from '../../firmware/bytes.ts';
import { validateConfig } from '../../firmware/config/schema.ts';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import { Meter, packingFor } from '../../firmware/meter/meter.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import type { Report } from '../../firmware/protocol/report.ts';
import { generateSigningKey, signKeyAnnouncement } from '../../host/keys/signing.ts';
import type { KeyPair } from '../../host/paillier/keygen.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { createNodePlatform } from '../../host/simulate/node-platform.ts';
import { XsFleet } from '../../host/simulate/xs-fleet.ts';
import { startTestBroker } from './helpers/broker.ts';
import { Collector } from './helpers/collector.ts';
import { until } from '../helpers/poll.ts';
import { rawMeterConfig } from './helpers/config.ts';
import { expectedReadings } from './helpers/expected.ts';

const keys = [testKeyPair(0), testKeyPair(1), testKeyPair(2)];
const signer = generateSigningKey();
const START = Date.UTC(2026, 2, 3, 9, 0, 0);
const SLOT_MS = 60_000;
const FIRST = START / SLOT_MS;

async function publishRetained(url: string, message: unknown) {
  const client = await mqtt.connectAsync(url);
  await client.publishAsync(KEY_ANNOUNCEMENT_TOPIC, JSON.stringify(message), { qos: 1, retain: true });
  await client.endAsync();
}

async function setup(t: any) {
  const [oldPair, newPair, otherPair] = keys;
  const broker = await startTestBroker();
  // Products enough for both keys' pools within the two slots between boot and the switch.
  const raw = rawMeterConfig(oldPair.publicKey, broker.url, {
    signingKey: bytesToHex(signer.publicKey),
    ackTimeoutSeconds: 5,
    stepProducts: 256,
  });
  const config = validateConfig(raw);
  const collector = await Collector.connect(
    broker.url,
    new Map([[config.meterId, { macKey: config.macKey, deviceKey: config.deviceKey, groups: config.groups }]]),
  );
  t.teardown(async () => {
    await collector.close();
    await broker.close();
  });
  // Effective two slots after the start; a forged one (another signer) would switch at once.
  const announcement = signKeyAnnouncement(signer, {
    publicKey: newPair.publicKey,
    previousKeyId: oldPair.publicKey.keyId,
    effectiveSlot: FIRST + 2,
  });
  const forged = signKeyAnnouncement(generateSigningKey(), {
    publicKey: otherPair.publicKey,
    previousKeyId: oldPair.publicKey.keyId,
    effectiveSlot: FIRST + 1,
  });
  return { oldPair, newPair, broker, raw, config, collector, announcement, forged };
}

/** Each report under the key its slot belongs to, decrypted to the household's energy. */
function checkReports(t: any, reports: Report[], pairs: { oldPair: KeyPair; newPair: KeyPair }, config: ReturnType<typeof validateConfig>) {
  t.deepEqual(
    reports.map((r) => r.slot),
    [FIRST, FIRST + 1, FIRST + 2, FIRST + 3],
  );
  t.deepEqual(
    reports.map((r) => r.keyId),
    [pairs.oldPair.publicKey.keyId, pairs.oldPair.publicKey.keyId, pairs.newPair.publicKey.keyId, pairs.newPair.publicKey.keyId],
  );
  const packing = packingFor(config);
  const decrypted = reports.flatMap((r) => {
    const pair = r.keyId === pairs.newPair.publicKey.keyId ? pairs.newPair : pairs.oldPair;
    return packing.unpack(pair.privateKey.decrypt(ciphertextFromBytes(pair.publicKey, r.ciphertext))).map(Number);
  });
  t.deepEqual(decrypted, expectedReadings(config.sensor as any, { startMs: START, sampleMs: 1000, subSlotMs: SLOT_MS, subSlots: 4 }));
}

test('in Node: the meter switches at the announced slot, keeps queued reports under the old key and ignores a forgery', async (t) => {
  const s = await setup(t);
  const clock = new VirtualClock(START);
  const storage = new MemoryStorage();
  const logs: string[] = [];
  const meter = new Meter(createNodePlatform({ config: s.config, clock, storage, log: (l) => logs.push(l) }), s.config);
  t.teardown(() => meter.stop());
  s.collector.acking = false;
  meter.start();
  await until(() => meter.stats().connected, 'connection');
  await publishRetained(s.broker.url, s.announcement);
  await until(() => meter.stats().announcementsAccepted === 1, 'the announcement');
  t.is(meter.stats().nextKeyId, s.newPair.publicKey.keyId);
  t.is(meter.stats().nextKeySlot, FIRST + 2);

  await publishRetained(s.broker.url, s.forged);
  await until(() => meter.stats().announcementsRefused['bad-signature'] === 1, 'the forgery refused');
  t.true(logs.some((l) => l.includes('key announcement refused (bad-signature)')));

  // Slots FIRST and FIRST+1 close while nobody acknowledges: they wait in the outbox.
  clock.advanceTo(START + 2 * SLOT_MS - 1000);
  t.is(meter.stats().outboxSize, 1);
  t.true(meter.stats().nextPoolSize > 0, 'r^n under the new key precomputed before the switch');
  t.is(meter.stats().combTableKeyId, s.newPair.publicKey.keyId, "the new key's comb table replaced the old one before its first slot");
  t.true(logs.some((l) => l.includes(`comb table for key ${s.newPair.publicKey.keyId} ready`)));
  t.is(meter.stats().keyId, s.oldPair.publicKey.keyId);
  clock.advanceTo(START + 2 * SLOT_MS);
  t.is(meter.stats().keyId, s.newPair.publicKey.keyId);
  s.collector.acking = true;
  clock.advanceTo(START + 4 * SLOT_MS);
  await until(() => meter.stats().outboxSize === 0, 'every report acknowledged');

  checkReports(t, s.collector.distinct(s.config.meterId), s, s.config);
  const stats = meter.stats();
  t.is(stats.poolDry, 0);
  t.is(stats.announcementsAccepted, 1);
  t.deepEqual(stats.announcementsRefused, { 'bad-signature': 1 });

  // A reboot keeps the key in use; the retained announcement seen again changes nothing.
  meter.stop();
  const rebooted = new Meter(createNodePlatform({ config: s.config, clock, storage }), s.config);
  t.teardown(() => rebooted.stop());
  t.is(rebooted.stats().keyId, s.newPair.publicKey.keyId);
  rebooted.start();
  await until(() => rebooted.stats().connected, 'reconnection');
  await until(
    () => Object.keys(rebooted.stats().announcementsRefused).length + rebooted.stats().announcementsRepeated > 0,
    'the retained message',
  );
  t.is(rebooted.stats().keyId, s.newPair.publicKey.keyId);
});

test('in XS: the firmware verifies the announcement, switches at the slot boundary and refuses a forgery', async (t) => {
  t.timeout(120_000, 'XS meters encrypting under two 2048-bit keys across the switch');
  const s = await setup(t);
  const logs: string[] = [];
  const fleet = await XsFleet.start({ configs: [s.raw], startMs: START, onLog: (_, line) => logs.push(line) });
  t.teardown(() => fleet.close());
  const id = s.config.meterId;
  await publishRetained(s.broker.url, s.forged);
  await fleet.boot();
  await until(() => fleet.messagesDelivered(id) >= 1, 'the retained forgery');
  await fleet.settle();
  t.deepEqual((await fleet.stats(id)).announcementsRefused, { 'bad-signature': 1 });
  t.is((await fleet.stats(id)).nextKeyId, null);

  await publishRetained(s.broker.url, s.announcement);
  await until(() => fleet.messagesDelivered(id) >= 2, 'the announcement');
  await fleet.settle();
  t.is((await fleet.stats(id)).nextKeySlot, FIRST + 2);

  s.collector.acking = false;
  await fleet.advanceTo(START + SLOT_MS);
  // A power cycle before the switch: the announced key comes back from storage.
  await fleet.reboot(id);
  t.is((await fleet.stats(id)).nextKeyId, s.newPair.publicKey.keyId);
  s.collector.acking = true;
  for (let k = 2; k <= 4; k++) {
    await fleet.advanceTo(START + k * SLOT_MS);
    await fleet.settle();
  }
  await until(() => s.collector.distinct(id).length === 4, 'four reports');
  checkReports(t, s.collector.distinct(id), s, s.config);
  t.true(logs.some((l) => l.includes('key announcement refused (bad-signature)')));
});
