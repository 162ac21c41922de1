/**
 * Delivery without loss, with the firmware inside XS against a real broker: the broker goes
 * away and the meter reboots mid-slot while it is away; afterwards every slot has exactly one
 * report, in order, with the energy the household drew. A full outbox keeps the newest reports
 * and the drop count reaches the provider in the next report's header. A meter first started in
 * the middle of a slot reports from the first slot it measured whole.
 */
import test from 'ava';
import { packingFor } from '../../firmware/meter/meter.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import type { XsFleet } from '../../host/simulate/xs-fleet.ts';
import { until } from '../helpers/poll.ts';
import { expectedReadings } from './helpers/expected.ts';
import { advanceAndDrain, drain, startXsMeter } from './helpers/fleet.ts';

const keys = testKeyPair();
const START = Date.UTC(2026, 9, 7, 17, 0, 0);
const SLOT_MS = 60_000;

async function setup(t: any, overrides: Record<string, unknown>) {
  const { publicKey, privateKey } = keys;
  return { privateKey, ...(await startXsMeter(t, publicKey, START, { reconnectMaxMs: 8000, ...overrides })) };
}

async function advanceInSteps(fleet: XsFleet, toMs: number, stepMs = 10_000) {
  for (let t = fleet.now + stepMs; t <= toMs; t += stepMs) {
    await fleet.advanceTo(t);
    await fleet.settle();
  }
}

test('broker drop and a reboot mid-slot lose nothing and duplicate nothing', async (t) => {
  t.timeout(120_000, 'XS meters through a broker outage and a reboot, each report a 2048-bit encryption in XS');
  const { privateKey, broker, config, collector, fleet } = await setup(t, { checkpointSeconds: 10 });
  const id = config.meterId;
  for (let k = 1; k <= 3; k++) await advanceAndDrain(fleet, START + k * SLOT_MS);

  await broker.stop();
  await advanceInSteps(fleet, START + 6 * SLOT_MS + 30_000);
  // Just after the 30 s checkpoint of slot 6: the reboot loses no measured energy.
  await fleet.advanceTo(START + 6 * SLOT_MS + 30_500);
  const before = await fleet.stats(id);
  t.false(before.connected);
  t.is(before.outboxSize, 3, 'slots 4-6 wait in the outbox');
  await fleet.reboot(id);
  await advanceInSteps(fleet, START + 9 * SLOT_MS);
  t.is((await fleet.stats(id)).outboxSize, 5, 'the outbox survived the reboot and kept filling');

  await broker.start();
  await until(() => collector.subscribed, 'collector back');
  await advanceInSteps(fleet, START + 10 * SLOT_MS);
  await drain(fleet);
  for (let k = 11; k <= 12; k++) await advanceAndDrain(fleet, START + k * SLOT_MS);

  const reports = collector.distinct(id);
  t.deepEqual(
    reports.map((r) => r.slot),
    Array.from({ length: 12 }, (_, k) => START / SLOT_MS + k),
    'every slot once, in order',
  );
  t.deepEqual(
    reports.map((r) => r.seq),
    Array.from({ length: 12 }, (_, k) => k),
    'sequence numbers continue across the reboot',
  );
  const slotsSeen = new Map<number, Set<number>>();
  for (const r of collector.reports) slotsSeen.set(r.slot, (slotsSeen.get(r.slot) ?? new Set()).add(r.seq));
  t.true(
    [...slotsSeen.values()].every((seqs) => seqs.size === 1),
    'no slot was reported twice under different sequence numbers',
  );

  const packing = packingFor(config);
  const decrypted = reports.map((r) => Number(packing.unpack(privateKey.decrypt(ciphertextFromBytes(config.publicKey, r.ciphertext)))[0]));
  t.deepEqual(decrypted, expectedReadings(config.sensor as any, { startMs: START, sampleMs: 1000, subSlotMs: SLOT_MS, subSlots: 12 }));
  const after = await fleet.stats(id);
  t.is(after.outboxSize, 0);
  t.true(after.connects >= 1);
});

test('a full outbox keeps the newest reports and the next report carries the drop count', async (t) => {
  t.timeout(120_000, 'an XS meter fills its outbox with 2048-bit encryptions in XS');
  const { broker, config, collector, fleet } = await setup(t, { outboxCapacity: 3 });
  const id = config.meterId;
  await advanceAndDrain(fleet, START + SLOT_MS);
  await broker.stop();
  await advanceInSteps(fleet, START + 6 * SLOT_MS);
  const offline = await fleet.stats(id);
  t.is(offline.outboxSize, 3);
  t.is(offline.outboxDropped, 2);
  await broker.start();
  await until(() => collector.subscribed, 'collector back');
  // Reconnect (backoff is at most 8 s here) and replay before the next slot closes.
  await advanceInSteps(fleet, START + 6 * SLOT_MS + 50_000);
  await drain(fleet);
  t.is((await fleet.stats(id)).outboxSize, 0);
  await advanceAndDrain(fleet, START + 7 * SLOT_MS);

  const reports = collector.distinct(id);
  const first = START / SLOT_MS;
  t.deepEqual(
    reports.map((r) => r.slot),
    [first, first + 3, first + 4, first + 5, first + 6],
    'slots 2 and 3 were dropped, the newest kept',
  );
  t.deepEqual(
    reports.map((r) => r.dropped),
    [0, 0, 1, 2, 2],
  );
});

test('a meter first started mid-slot reports from the first slot it measured whole, also when it reboots inside the first', async (t) => {
  t.timeout(120_000, 'an XS meter booted twice, each report a 2048-bit encryption in XS');
  const bootMs = START + 25_000;
  const { config, collector, fleet } = await startXsMeter(t, keys.publicKey, bootMs, { checkpointSeconds: 10 });
  const id = config.meterId;
  await fleet.advanceTo(bootMs + 20_500);
  // Just after a checkpoint: the rebooted meter resumes the slot it began in, and still does not report it.
  await fleet.reboot(id);
  for (let k = 1; k <= 3; k++) await advanceAndDrain(fleet, START + k * SLOT_MS);

  const reports = collector.distinct(id);
  t.deepEqual(
    reports.map((r) => r.slot),
    [START / SLOT_MS + 1, START / SLOT_MS + 2],
    'the slot the meter began in is not reported',
  );
  t.deepEqual(
    reports.map((r) => r.seq),
    [0, 1],
  );
  const stats = await fleet.stats(id);
  t.is(stats.slotsStartedMidSlot, 1);
  t.is(stats.reportsCreated, 2);
  const packing = packingFor(config);
  const decrypted = reports.map((r) =>
    Number(packing.unpack(keys.privateKey.decrypt(ciphertextFromBytes(config.publicKey, r.ciphertext)))[0]),
  );
  const whole = expectedReadings(config.sensor as any, { startMs: START + SLOT_MS, sampleMs: 1000, subSlotMs: SLOT_MS, subSlots: 2 });
  // The sub-mWh carry of the unreported slot moves into the first whole one.
  t.true(Math.abs(decrypted[0] - whole[0]) <= 1, `${decrypted[0]} vs ${whole[0]}`);
  t.true(Math.abs(decrypted[1] - whole[1]) <= 1, `${decrypted[1]} vs ${whole[1]}`);
});
