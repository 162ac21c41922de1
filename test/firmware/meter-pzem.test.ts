/**
 * The metering loop with the PZEM-004T driver against a simulated PZEM, in Node against a real
 * broker and in virtual time: lost replies cost exactly the intervals the miss policy says
 * (docs/firmware.md, "Sensors"), sampling goes on through them and through a re-opened UART, and
 * the bus counters appear in the meter's stats.
 */
import test from 'ava';
import { validateConfig } from '../../firmware/config/schema.ts';
import { Meter, packingFor } from '../../firmware/meter/meter.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { Pzem004tSensor } from '../../firmware/sensors/pzem004t.ts';
import { createNodePlatform } from '../../host/simulate/node-platform.ts';
import { until } from '../helpers/poll.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { startTestBroker } from './helpers/broker.ts';
import { Collector } from './helpers/collector.ts';
import { rawMeterConfig } from './helpers/config.ts';
import { SimulatedPzemUart, type PzemFault } from './helpers/simulated-pzem.ts';

const keys = testKeyPair();
const START = Date.UTC(2026, 5, 1, 6, 0, 0);

test('missed PZEM replies cost only the intervals without a reading, and the meter reads on', async (t) => {
  const { publicKey, privateKey } = keys;
  const broker = await startTestBroker();
  const config = validateConfig(rawMeterConfig(publicKey, broker.url, { packing: { readings: 4 } }));
  const collector = await Collector.connect(
    broker.url,
    new Map([[config.meterId, { macKey: config.macKey, deviceKey: config.deviceKey, groups: config.groups }]]),
  );
  const clock = new VirtualClock(START);
  // Request k is sent at sample k (request 0 at start) and read at sample k + 1.
  const faults: PzemFault[] = Array.from({ length: 30 }, (_, k) => (k === 10 || k === 11 || (k >= 20 && k <= 22) ? 'silent' : 'none'));
  const uart = new SimulatedPzemUart(clock, { address: 5, replyDelayMs: 60, lateDelayMs: 0, watts: () => 1800 }, faults);
  const sensor = new Pzem004tSensor(uart, clock, { address: 5, replyTimeoutMs: 170, reinitAfterMisses: 3, maxAgeMs: 2 * config.sampleMs });
  const platform = { ...createNodePlatform({ config, clock, storage: new MemoryStorage(), log: () => {} }), sensor };
  const meter = new Meter(platform, config);
  t.teardown(async () => {
    meter.stop();
    await collector.close();
    await broker.close();
  });

  meter.start();
  await until(() => meter.stats().connected, 'connection');
  for (let k = 1; k <= 2; k++) {
    clock.advanceTo(START + k * 60_000);
    await until(() => collector.distinct().length === k, `slot ${k} reported`);
  }
  const packing = packingFor(config);
  const readings = collector
    .distinct(config.meterId)
    .map((r) => packing.unpack(privateKey.decrypt(ciphertextFromBytes(config.publicKey, r.ciphertext))).map(Number));
  // 1800 W is 500 mWh a second, 7500 mWh a 15 s sub-slot. Samples 11 and 21 hold the reading
  // before the miss; samples 12, 22 and 23 have none and add nothing for their second.
  t.deepEqual(readings, [
    [7000, 6500, 7500, 7500],
    [7500, 7500, 7500, 7500],
  ]);
  const stats = meter.stats();
  t.is(stats.sensorMisses, 3);
  t.like(stats.sensor, { misses: 5, held: 2, reinits: 1, missesByReason: { 'sensor-timeout': 5 } });
  t.is(uart.opens, 2, 'the third miss in a row re-opened the UART');
});
