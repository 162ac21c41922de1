/**
 * The meter's randomness pool under pressure (firmware run in Node against a real broker): when
 * refilling cannot keep up the meter says so (counter and log line) and the report waits for
 * randomness computed in steps; no r^n is ever used twice, which the provider's private key lets
 * the test check.
 */
import test from 'ava';
import { validateConfig } from '../../firmware/config/schema.ts';
import { Meter } from '../../firmware/meter/meter.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { createNodePlatform } from '../../host/simulate/node-platform.ts';
import { startTestBroker } from './helpers/broker.ts';
import { Collector } from './helpers/collector.ts';
import { until } from '../helpers/poll.ts';
import { rawMeterConfig } from './helpers/config.ts';
import { expectedReadings } from './helpers/expected.ts';

const keys = testKeyPair();
const START = Date.UTC(2026, 6, 1, 12, 0, 0);

async function runSlots(t: any, overrides: Record<string, unknown>, slots: number, eachSlot = true, pair = keys) {
  const { publicKey, privateKey } = pair;
  const broker = await startTestBroker();
  const config = validateConfig(rawMeterConfig(publicKey, broker.url, { slotSeconds: 10, ...overrides }));
  const collector = await Collector.connect(
    broker.url,
    new Map([[config.meterId, { macKey: config.macKey, deviceKey: config.deviceKey, groups: config.groups }]]),
  );
  const clock = new VirtualClock(START);
  const logs: string[] = [];
  const meter = new Meter(createNodePlatform({ config, clock, storage: new MemoryStorage(), log: (l) => logs.push(l) }), config);
  t.teardown(async () => {
    meter.stop();
    await collector.close();
    await broker.close();
  });
  meter.start();
  await until(() => meter.stats().connected, 'connection');
  for (let k = 1; k <= slots; k++) {
    clock.advanceTo(START + k * 10_000);
    if (eachSlot) await until(() => meter.stats().outboxSize === 0 && collector.distinct().length === k, `slot ${k}`);
  }
  if (!eachSlot)
    await until(() => meter.stats().outboxSize === 0 && collector.distinct().length === meter.stats().reportsCreated, 'the reports made');
  const reports = collector.distinct();
  const n = publicKey.n;
  const nSquared = publicKey.nSquared;
  const plain = reports.map((r) => privateKey.decrypt(ciphertextFromBytes(publicKey, r.ciphertext)));
  // c = (1 + m n) r^n mod n^2, so r^n = c (1 - m n) mod n^2.
  const rn = reports.map(
    (r, i) => (ciphertextFromBytes(publicKey, r.ciphertext) * (((1n - plain[i] * n) % nSquared) + nSquared)) % nSquared,
  );
  const expected = expectedReadings(config.sensor as any, { startMs: START, sampleMs: 1000, subSlotMs: 10_000, subSlots: reports.length });
  return { stats: meter.stats(), logs, plain: plain.map(Number), rn, expected };
}

test('with too small a step budget the pool runs dry: each such report waits for randomness computed in steps, and none is reused', async (t) => {
  // 100 products per sample, 10 samples per slot, about 1,250 products per hs^a without a table.
  const { stats, logs, plain, rn, expected } = await runSlots(t, { poolCapacity: 1, stepProducts: 100, combHeight: 0 }, 8, false);
  t.true(stats.poolDry >= 2, `${stats.poolDry} slots found the pool dry`);
  t.true(stats.awaitingRandomness >= 1, 'the meter falls behind, and says so');
  t.true(stats.reportsCreated < 8);
  t.is(logs.filter((l) => l.includes('randomness pool empty')).length, stats.poolDry);
  t.true(
    logs.some((l) => l.includes('cannot keep up')),
    'the configuration warning comes at start',
  );
  t.deepEqual(plain, expected, 'the late reports carry their own slots, in order');
  t.is(new Set(rn).size, rn.length, 'no r^n used twice');
});

test('with enough products per slot the pool never runs dry, the comb table is built, and no r^n repeats', async (t) => {
  const { stats, plain, rn, expected, logs } = await runSlots(t, { poolCapacity: 2, stepProducts: 256 }, 6);
  t.is(stats.poolDry, 0);
  t.true(stats.poolRefills >= 6);
  t.is(stats.combTablesBuilt, 1);
  t.is(stats.combTableKeyId, keys.publicKey.keyId);
  t.true(logs.some((l) => l.includes('comb table for key') && l.includes('ready')));
  t.deepEqual(plain, expected);
  t.is(new Set(rn).size, rn.length);
});

test('a version-1 key: the meter computes classic r^n in steps, builds no table, and the reports decrypt', async (t) => {
  const classic = testKeyPair(1, 'classic');
  const { stats, plain, rn, expected } = await runSlots(t, { poolCapacity: 2 }, 4, true, classic);
  t.is(stats.poolDry, 0);
  t.is(stats.combTablesBuilt, 0);
  t.is(stats.combTableKeyId, null);
  t.deepEqual(plain, expected);
  t.is(new Set(rn).size, rn.length);
});
