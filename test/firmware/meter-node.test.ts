/**
 * The metering loop run directly in Node (V8) against a real MQTT broker, in virtual time:
 * slots close on wall-clock boundaries, each is reported once, each report decrypts to the energy
 * the household drew, acknowledged reports leave the outbox.
 */
import test from 'ava';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { validateConfig } from '../../firmware/config/schema.ts';
import { Meter, packingFor } from '../../firmware/meter/meter.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { createNodePlatform } from '../../host/simulate/node-platform.ts';
import { startTestBroker } from './helpers/broker.ts';
import { Collector } from './helpers/collector.ts';
import { until } from '../helpers/poll.ts';
import { rawMeterConfig } from './helpers/config.ts';
import { expectedReadings } from './helpers/expected.ts';
import mqtt from 'mqtt';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { deriveAckKey } from '../../firmware/protocol/meter-keys.ts';
import { AckStatus, ackTopic, encodeAck } from '../../firmware/protocol/report.ts';

const keys = testKeyPair();
const START = Date.UTC(2026, 5, 1, 6, 0, 0);

async function setup(t: any, overrides: Record<string, unknown> = {}) {
  const { publicKey, privateKey } = keys;
  const broker = await startTestBroker();
  const config = validateConfig(rawMeterConfig(publicKey, broker.url, overrides));
  const collector = await Collector.connect(
    broker.url,
    new Map([[config.meterId, { macKey: config.macKey, deviceKey: config.deviceKey, groups: config.groups }]]),
  );
  const clock = new VirtualClock(START);
  const storage = new MemoryStorage();
  const logs: string[] = [];
  const platform = createNodePlatform({ config, clock, storage, log: (line) => logs.push(line) });
  const meter = new Meter(platform, config);
  t.teardown(async () => {
    meter.stop();
    await collector.close();
    await broker.close();
  });
  return { config, privateKey, broker, collector, clock, storage, platform, meter, logs };
}

test('each slot is reported once and decrypts to the energy the household drew', async (t) => {
  const { config, privateKey, collector, clock, meter, logs } = await setup(t, { packing: { readings: 4 }, slotSeconds: 120 });
  meter.start();
  await until(() => meter.stats().connected, 'connection');
  const slots = 6;
  const slotMs = config.slotSeconds * 1000;
  for (let k = 1; k <= slots; k++) {
    clock.advanceTo(START + k * slotMs);
    await until(() => collector.distinct().length === k && meter.stats().outboxSize === 0, `slot ${k} acknowledged`);
  }
  const reports = collector.distinct(config.meterId);
  t.deepEqual(
    reports.map((r) => r.slot),
    Array.from({ length: slots }, (_, k) => START / slotMs + k),
  );
  t.deepEqual(
    reports.map((r) => r.seq),
    [0, 1, 2, 3, 4, 5],
  );
  const packing = packingFor(config);
  const expected = expectedReadings(config.sensor as any, { startMs: START, sampleMs: 1000, subSlotMs: 30_000, subSlots: slots * 4 });
  const decrypted = reports.flatMap((r) =>
    packing.unpack(privateKey.decrypt(ciphertextFromBytes(config.publicKey, r.ciphertext))).map(Number),
  );
  t.deepEqual(decrypted, expected);
  t.true(expected.every((mwh) => mwh > 0));
  const stats = meter.stats();
  t.is(stats.reportsAcknowledged, slots);
  t.is(stats.poolDry, 0);
  t.is(stats.samples, slots * 120);
  t.false(
    logs.some((line) => /\d{4,}\s*mWh/.test(line)),
    'no reading appears in the log',
  );
});

/** A started meter whose first report the collector holds back, and an MQTT client to answer it by hand. */
async function firstUnacknowledgedReport(t: any, overrides: Record<string, unknown> = {}) {
  const { clock, meter, collector, config } = await setup(t, overrides);
  collector.acking = false;
  meter.start();
  await until(() => meter.stats().connected, 'connection');
  clock.advanceTo(START + 60_000);
  await until(() => collector.distinct().length === 1, 'report');
  const client = await mqtt.connectAsync(config.broker.url);
  t.teardown(() => client.endAsync());
  return { meter, config, report: collector.distinct()[0], client };
}

test('acknowledgements with a wrong tag or from an unknown group are refused and counted', async (t) => {
  const { meter, config, report, client } = await firstUnacknowledgedReport(t);
  const forged = encodeAck(
    { meterId: config.meterId, groupId: 'feeder-a', slot: report.slot, seq: report.seq, status: AckStatus.stored },
    new Uint8Array(32).fill(9),
    hmacSha256,
  );
  const otherGroup = encodeAck(
    { meterId: config.meterId, groupId: 'feeder-z', slot: report.slot, seq: report.seq, status: AckStatus.stored },
    deriveAckKey(config.deviceKey, 'feeder-z', hmacSha256),
    hmacSha256,
  );
  await client.publishAsync(ackTopic(config.meterId), Buffer.from(forged), { qos: 1 });
  await client.publishAsync(ackTopic(config.meterId), Buffer.from(otherGroup), { qos: 1 });
  await until(() => Object.values(meter.stats().acksRejected).reduce((a, b) => a + b, 0) === 2, 'two refusals');
  t.deepEqual(meter.stats().acksRejected, { 'bad-mac': 1, 'unknown-group': 1 });
  t.is(meter.stats().outboxSize, 1);
});

test('a meter in two groups keeps a report until both groups acknowledged it', async (t) => {
  const { meter, config, report, client } = await firstUnacknowledgedReport(t, { groups: ['feeder-a', 'street-7'] });
  const ack = (groupId: string) =>
    Buffer.from(
      encodeAck(
        { meterId: config.meterId, groupId, slot: report.slot, seq: report.seq, status: AckStatus.stored },
        deriveAckKey(config.deviceKey, groupId, hmacSha256),
        hmacSha256,
      ),
    );
  await client.publishAsync(ackTopic(config.meterId), ack('feeder-a'), { qos: 1 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(meter.stats().outboxSize, 1, 'one group is not enough');
  await client.publishAsync(ackTopic(config.meterId), ack('street-7'), { qos: 1 });
  await until(() => meter.stats().outboxSize === 0, 'outbox empty');
  t.is(meter.stats().reportsAcknowledged, 1);
});
