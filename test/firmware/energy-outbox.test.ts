/** The integrator's unit and carry rules, its mark on a slot measured from its middle, and the outbox's persistence, order and drop counting. */
import test from 'ava';
import fc from 'fast-check';
import { loadCheckpoint, saveCheckpoint } from '../../firmware/meter/checkpoint.ts';
import { EnergyIntegrator, MILLIWATT_MS_PER_MWH, maxReadingMwh } from '../../firmware/meter/energy.ts';
import { Outbox } from '../../firmware/meter/outbox.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';

const SUB = 60_000;

test('readings of consecutive sub-slots sum to the integrated energy, whatever the sample times (property)', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 0, max: 23_000_000 })), { minLength: 1, maxLength: 80 }),
      (steps) => {
        const start = 1_800_000_000_000;
        const integrator = new EnergyIntegrator(SUB, 4, start);
        let now = start;
        let total = 0n;
        const readings: number[] = [];
        for (const [dt, mw] of steps) {
          now += dt;
          total += BigInt(dt) * BigInt(mw);
          for (const slot of integrator.sample(now, mw)) readings.push(...slot.readings);
        }
        const closedSubSlots = readings.length;
        // Energy up to the last closed sub-slot boundary, recomputed from the steps.
        const boundary = Math.floor(start / SUB) * SUB + (closedSubSlots + (Math.floor(start / SUB) % 4)) * SUB;
        let upToBoundary = 0n;
        let t0 = start;
        for (const [dt, mw] of steps) {
          const t1 = Math.min(t0 + dt, boundary);
          if (t1 > t0) upToBoundary += BigInt(t1 - t0) * BigInt(mw);
          t0 += dt;
        }
        const sum = readings.reduce((a, b) => a + b, 0) - 0;
        return BigInt(sum) === upToBoundary / BigInt(MILLIWATT_MS_PER_MWH) && total >= upToBoundary;
      },
    ),
  );
  t.pass();
});

test('an interval that spans a sub-slot boundary is split at the boundary', (t) => {
  const start = 1_800_000_000_000 - (1_800_000_000_000 % (4 * SUB));
  const integrator = new EnergyIntegrator(SUB, 1, start);
  t.deepEqual(integrator.sample(start + 30_000, 3_600_000), []);
  // 3.6 kW for 30 s = 30 Wh; then 7.2 kW for 30 s in this sub-slot (60 Wh) and 30 s in the next.
  const closed = integrator.sample(start + 90_000, 7_200_000);
  t.deepEqual(closed, [{ slot: start / SUB, readings: [90_000] }]);
  t.deepEqual(integrator.sample(start + 120_000, 0), [{ slot: start / SUB + 1, readings: [60_000] }]);
});

test('the slot a fresh integrator starts in after its start is marked started mid-slot, with 0 for the sub-slots before; the next is whole', (t) => {
  const slotStart = 1_800_000_000_000 - (1_800_000_000_000 % (4 * SUB));
  const integrator = new EnergyIntegrator(SUB, 4, slotStart + 2 * SUB + 1000);
  const closed = integrator.sample(slotStart + 4 * SUB, 3_600_000);
  t.is(closed.length, 1);
  t.true(closed[0].startedMidSlot);
  t.deepEqual(closed[0].readings.slice(0, 2), [0, 0]);
  t.deepEqual(closed[0].readings.slice(2), [59_000, 60_000]);
  t.deepEqual(integrator.sample(slotStart + 8 * SUB, 3_600_000), [
    { slot: slotStart / (4 * SUB) + 1, readings: [60_000, 60_000, 60_000, 60_000] },
  ]);
  // Started on the slot's first millisecond: measured whole.
  const onTime = new EnergyIntegrator(SUB, 4, slotStart);
  t.deepEqual(onTime.sample(slotStart + 4 * SUB, 3_600_000), [{ slot: slotStart / (4 * SUB), readings: [60_000, 60_000, 60_000, 60_000] }]);
});

test('a reboot inside the slot measuring began in resumes it from the checkpoint, still marked started mid-slot', (t) => {
  const slotStart = 1_800_000_000_000 - (1_800_000_000_000 % (4 * SUB));
  const storage = new MemoryStorage();
  const before = new EnergyIntegrator(SUB, 4, slotStart + SUB + 500);
  before.sample(slotStart + 2 * SUB, 3_600_000);
  saveCheckpoint(storage, before.snapshot());
  const restored = loadCheckpoint(storage);
  t.is(restored?.midSlotStart, slotStart / (4 * SUB));
  const after = new EnergyIntegrator(SUB, 4, slotStart + 2 * SUB, restored);
  const [closed] = after.sample(slotStart + 4 * SUB, 3_600_000);
  t.true(closed.startedMidSlot);
  // A checkpoint written before the mark existed, or one with a bad mark.
  storage.set('mt.ck', new TextEncoder().encode(JSON.stringify({ ...before.snapshot(), midSlotStart: undefined })));
  t.is(loadCheckpoint(storage)?.midSlotStart, undefined);
  storage.set('mt.ck', new TextEncoder().encode(JSON.stringify({ ...before.snapshot(), midSlotStart: -1 })));
  t.is(loadCheckpoint(storage), undefined);
});

test('after a long outage the open slot is closed and measurement restarts without inventing energy', (t) => {
  const slotStart = 1_800_000_000_000 - (1_800_000_000_000 % (2 * SUB));
  const integrator = new EnergyIntegrator(SUB, 2, slotStart);
  integrator.sample(slotStart + 30_000, 3_600_000);
  const closed = integrator.restartAt(slotStart + 10 * SUB + 5000);
  t.deepEqual(closed, [{ slot: slotStart / (2 * SUB), readings: [30_000, 0] }]);
  t.is(integrator.slot, slotStart / (2 * SUB) + 5);
});

test('the largest possible reading bounds full power for a whole sub-slot', (t) => {
  t.is(maxReadingMwh(23_000, 60_000), 383_334);
  const integrator = new EnergyIntegrator(SUB, 1, 0);
  const [closed] = integrator.sample(SUB, 23_000_000);
  t.true(closed.readings[0] <= maxReadingMwh(23_000, SUB));
});

test('the outbox survives a restart with its order, sequence numbers, drops and reported slots', (t) => {
  const storage = new MemoryStorage();
  const box = new Outbox(storage, 3);
  for (let slot = 10; slot < 15; slot++) box.push(slot, (seq, dropped) => Uint8Array.of(seq, dropped, slot));
  t.deepEqual(
    box.entries().map((e) => e.slot),
    [12, 13, 14],
  );
  t.is(box.dropped, 2);
  const rebooted = new MemoryStorage(storage.entries());
  const again = new Outbox(rebooted, 3);
  t.deepEqual(
    again.entries().map((e) => [e.slot, e.seq, [...again.message(e)!]]),
    [
      [12, 2, [2, 0, 12]],
      [13, 3, [3, 1, 13]],
      [14, 4, [4, 2, 14]],
    ],
  );
  t.true(again.hasReported(14));
  t.false(again.hasReported(15));
  again.remove(again.find(13, 3)!);
  const entry = again.push(15, (seq, dropped) => Uint8Array.of(seq, dropped))!;
  t.is(entry.seq, 5);
  t.deepEqual([...again.message(entry)!], [5, 2]);
  const third = new Outbox(new MemoryStorage(rebooted.entries()), 3);
  t.deepEqual(
    third.entries().map((e) => e.slot),
    [12, 14, 15],
  );
});
