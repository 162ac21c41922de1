/**
 * The outbox keeps its reports in storage, not in RAM; it cycles through a fixed ring of key
 * names; a storage with no room costs the oldest report (counted), never the meter; and the
 * default capacity is what the device's storage holds beside the meter's other records.
 */
import test from 'ava';
import { validateConfig } from '../../firmware/config/schema.ts';
import { Meter } from '../../firmware/meter/meter.ts';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { createNodePlatform } from '../../host/simulate/node-platform.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { rawMeterConfig } from './helpers/config.ts';
import { defaultOutboxCapacity, Outbox, RESERVED_STORAGE_BYTES } from '../../firmware/meter/outbox.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { DEVICE_PARTITION_BYTES, storedBytes, usableBytes } from '../../firmware/platform/storage-budget.ts';

const REPORT = 581; // a 2048-bit report, as the lin build published it

function report(seq: number, dropped: number, slot: number): Uint8Array {
  const bytes = new Uint8Array(REPORT);
  bytes.set([seq & 255, dropped & 255, slot & 255]);
  return bytes;
}

test('the default outbox of the ESP32 holds 16 reports of a 2048-bit key and leaves room for a key announcement', (t) => {
  const capacityBytes = usableBytes(DEVICE_PARTITION_BYTES);
  t.is(capacityBytes, 5 * 126 * 32);
  const capacity = defaultOutboxCapacity(capacityBytes, 2048);
  t.is(capacity, 16);
  t.is(defaultOutboxCapacity(capacityBytes, 4096), 9);
  t.is(defaultOutboxCapacity(capacityBytes, 2048, 3), 14, 'three custodians: 96 bytes of authenticators in each report');
  t.is(defaultOutboxCapacity(usableBytes(0x10000), 2048), 71, 'a 64 KB partition');
  t.is(defaultOutboxCapacity(1000, 2048), 1, 'never below one');

  const storage = new MemoryStorage();
  const box = new Outbox(storage, capacity);
  for (let slot = 0; slot < 40; slot++) box.push(slot, (seq, dropped) => report(seq, dropped, slot));
  t.is(box.size, capacity);
  t.is(box.dropped, 40 - capacity);
  t.true(capacityBytes - storage.usedBytes >= RESERVED_STORAGE_BYTES - storedBytes(24), `${storage.usedBytes} bytes used`);
  // A key schedule with two announced 2048-bit short-exponent keys (firmware/meter/key-schedule.ts),
  // and the rewrite of one of them.
  for (const key of ['ky.0', 'ky.1', 'ky.1']) storage.set(key, new Uint8Array(1640));
  storage.set('ky.s', new Uint8Array(200));
});

test('held entries carry no report bytes: the outbox reads them from storage when asked', (t) => {
  const storage = new MemoryStorage();
  const box = new Outbox(storage, 4);
  const entry = box.push(7, (seq, dropped) => report(seq, dropped, 7))!;
  t.deepEqual(Object.keys(entry).sort(), ['index', 'seq', 'slot']);
  t.deepEqual([...box.message(entry)!.subarray(0, 3)], [0, 0, 7]);
  box.remove(entry);
  t.is(box.message(entry), undefined);
  t.is(storage.get('ob.0'), undefined);
});

test('a thousand reports, acknowledged out of order, use no more than twice the capacity in key names', (t) => {
  const names = new Set<string>();
  const storage = new MemoryStorage(undefined, (key) => names.add(key));
  const box = new Outbox(storage, 5);
  for (let slot = 0; slot < 1000; slot++) {
    box.push(slot, (seq, dropped) => Uint8Array.of(seq & 255, dropped & 255));
    // Acknowledge the newest at once: the oldest lingers until the ring comes round to it.
    const held = box.entries();
    if (held.length >= 2) box.remove(held[held.length - 1]);
  }
  t.deepEqual([...names].sort(), ['ob.0', 'ob.1', 'ob.2', 'ob.3', 'ob.4', 'ob.5', 'ob.6', 'ob.7', 'ob.8', 'ob.9', 'ob.m']);
  const rebooted = new Outbox(new MemoryStorage(storage.entries()), 5);
  t.deepEqual(
    rebooted.entries().map((e) => [e.slot, e.seq]),
    box.entries().map((e) => [e.slot, e.seq]),
  );
  t.true(box.dropped > 0, 'a report a whole ring behind is dropped, and counted');
});

test('a storage with no room drops the oldest reports, counted in the next report, and never throws', (t) => {
  // Room for the counters and three reports.
  const storage = new MemoryStorage(undefined, undefined, storedBytes(24) + 3 * storedBytes(REPORT + 8) + storedBytes(24));
  const box = new Outbox(storage, 10);
  const headers: [number, number][] = [];
  for (let slot = 100; slot < 108; slot++) {
    const entry = box.push(slot, (seq, dropped) => {
      headers.push([seq, dropped]);
      return report(seq, dropped, slot);
    });
    t.truthy(entry, `slot ${slot} stored`);
  }
  t.deepEqual(
    box.entries().map((e) => e.slot),
    [105, 106, 107],
  );
  t.is(box.dropped, 5);
  const stored = box.entries().map((e) => [...box.message(e)!.subarray(0, 2)]);
  t.deepEqual(stored, [
    [5, 3],
    [6, 4],
    [7, 5],
  ]);
  t.deepEqual(
    headers.filter(([seq]) => seq === 3),
    [
      [3, 0],
      [3, 1],
    ],
    'a report turned away is built again with the drop that made room for it',
  );

  // Room for the counters (and their rewrite) and one small value.
  const tiny = new MemoryStorage(undefined, undefined, 2 * storedBytes(24) + storedBytes(2) + 10);
  const starved = new Outbox(tiny, 10);
  t.is(
    starved.push(1, (seq, dropped) => report(seq, dropped, 1)),
    undefined,
  );
  t.is(starved.dropped, 1);
  t.true(starved.hasReported(1), 'the slot is not reported again');
  t.is(starved.push(2, () => Uint8Array.of(1, 2))!.seq, 1, 'a small report still fits; seq 0 went with the lost one');
});

test('a capacity changed between boots keeps the old ring of names until the outbox is empty', (t) => {
  const names = new Set<string>();
  const storage = new MemoryStorage(undefined, (key) => names.add(key));
  const box = new Outbox(storage, 4);
  for (let slot = 0; slot < 3; slot++) box.push(slot, (seq) => Uint8Array.of(seq));
  const larger = new Outbox(storage, 16);
  t.deepEqual(
    larger.entries().map((e) => e.seq),
    [0, 1, 2],
  );
  for (let slot = 3; slot < 13; slot++) larger.push(slot, (seq) => Uint8Array.of(seq));
  t.deepEqual(
    larger.entries().map((e) => e.seq),
    [5, 6, 7, 8, 9, 10, 11, 12],
    'no more than the old ring while its reports are held',
  );
  t.is(names.size, 8 + 1);
  for (const entry of [...larger.entries()]) larger.remove(entry);
  for (let slot = 13; slot < 33; slot++) larger.push(slot, (seq) => Uint8Array.of(seq));
  t.is(larger.size, 16);
  const smaller = new Outbox(new MemoryStorage(storage.entries()), 2);
  t.deepEqual(
    smaller.entries().map((e) => e.seq),
    Array.from({ length: 16 }, (_, k) => 17 + k),
  );
  smaller.push(33, (seq) => Uint8Array.of(seq));
  t.deepEqual(
    smaller.entries().map((e) => e.seq),
    [32, 33],
  );
});

test('a meter whose storage fills keeps sampling: reports dropped and writes refused are counted, never thrown', async (t) => {
  const { publicKey } = testKeyPair();
  // No broker listens there: the meter stays offline and its outbox fills.
  const config = validateConfig(
    rawMeterConfig(publicKey, 'mqtt://127.0.0.1:9', {
      slotSeconds: 10,
      outboxCapacity: 10,
      reconnectMinMs: 60_000,
      reconnectMaxMs: 60_000,
    }),
  );
  const start = Date.UTC(2026, 5, 1, 6, 0, 0);
  const clock = new VirtualClock(start);
  // Two reports, the counters with room to rewrite them, and a checkpoint but not its rewrite:
  // the third report costs the first, and with two held the checkpoint has nowhere to go.
  const storage = new MemoryStorage(undefined, undefined, 2 * storedBytes(REPORT + 8) + 2 * storedBytes(24) + storedBytes(100));
  const logs: string[] = [];
  const meter = new Meter(createNodePlatform({ config, clock, storage, log: (line) => logs.push(line) }), config);
  t.teardown(() => meter.stop());
  meter.start();
  for (let k = 1; k <= 8; k++) clock.advanceTo(start + k * 10_000);
  const stats = meter.stats();
  t.is(stats.samples, 80);
  t.is(stats.reportsCreated, 8);
  t.true(stats.outboxSize >= 1 && stats.outboxSize <= 2, `${stats.outboxSize} held`);
  t.is(stats.outboxDropped, 8 - stats.outboxSize);
  t.true(storage.usedBytes <= storage.capacityBytes);
  t.true(stats.storageFull > 0, 'checkpoints refused');
  t.is(logs.filter((line) => line.includes('checkpoint not saved: storage-full')).length, 1, 'said once per run of refusals');
  t.log(`held ${stats.outboxSize}, dropped ${stats.outboxDropped}, writes refused ${stats.storageFull}`);
  t.false(
    logs.some((line) => /TypeError|abort/i.test(line)),
    logs.join('\n'),
  );
});
