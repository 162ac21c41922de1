/**
 * A meter's outbox stays bounded under a long outage, and the operator sees what it cost: the
 * firmware's metering loop (run in Node, on a virtual clock) with room for two reports and no
 * aggregator to acknowledge them drops the oldest with a count, and that count reaches the real
 * provider in the meter's health status over the embedded broker and shows in /api/meters. The
 * 2048-bit key is the committed fixture; the meter encrypts one report per slot.
 */
import test from 'ava';
import { validateConfig } from '../../firmware/config/schema.ts';
import { Meter } from '../../firmware/meter/meter.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { runProvider } from '../../host/provider/run.ts';
import { createNodePlatform } from '../../host/simulate/node-platform.ts';
import { meterConfigs } from '../../host/start/fleet.ts';
import { deploy } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { getJson } from './support/probe.ts';

const START = Date.UTC(2026, 11, 2, 6, 0, 0);

test("a full outbox drops the oldest report with a count, and the count reaches the provider in the meter's health status", async (t) => {
  const d = await deploy({ keyPair: testKeyPair(0), groups: [{ id: 'street', members: ['m1', 'm2'], feeder: 'f1', k: 2 }] });
  t.teardown(() => d.cleanup());
  const provider = await runProvider(d.config);
  t.teardown(() => provider.stop());
  const raw = meterConfigs(d.config, d.publicKey, d.secrets).find((c) => c.meterId === 'm1')!;
  const config = validateConfig({ ...raw, slotSeconds: 60, outboxCapacity: 2, statusSeconds: 60 });
  const clock = new VirtualClock(START);
  const meter = new Meter(createNodePlatform({ config, clock, storage: new MemoryStorage() }), config);
  t.teardown(() => meter.stop());
  meter.start();
  await until(() => meter.stats().connected, 'the connection');

  // No aggregator runs: six slots (the first may be the one the meter booted in, not reported), room for two.
  for (let k = 1; k <= 6; k++) {
    clock.advanceTo(START + k * 60_000);
    await until(() => meter.stats().reportsCreated >= k - 1, `slot ${k} closed`, 20_000);
  }
  const stats = meter.stats();
  t.true(stats.reportsCreated >= 5);
  t.is(stats.outboxSize, 2, 'the outbox holds its capacity, no more');
  const dropped = stats.reportsCreated - 2;
  t.is(stats.outboxDropped, dropped);
  // The next status (every statusSeconds of the meter's clock) carries the count.
  clock.advanceTo(START + 7 * 60_000);
  await until(
    async () => (await getJson(`${provider.apiUrl}/api/meters/m1`)).body.dropped === dropped,
    'the drop count in /api/meters',
    20_000,
  );
  t.like((await getJson(`${provider.apiUrl}/api/meters/m1`)).body, { meterId: 'm1', outbox: 2, dropped });
});
