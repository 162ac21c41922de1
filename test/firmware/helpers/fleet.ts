/** Driving XS meters in tests: one meter against a real broker, virtual time, draining the network. */
import type { ExecutionContext } from 'ava';
import { validateConfig } from '../../../firmware/config/schema.ts';
import type { PaillierPublicKey } from '../../../firmware/paillier/public-key.ts';
import { XsFleet } from '../../../host/simulate/xs-fleet.ts';
import { startTestBroker } from './broker.ts';
import { Collector } from './collector.ts';
import { rawMeterConfig } from './config.ts';
import { until } from '../../helpers/poll.ts';

/** One meter running the firmware bundle in XS from `startMs`, a test broker and a collector that acknowledges. */
export async function startXsMeter(
  t: ExecutionContext,
  publicKey: PaillierPublicKey,
  startMs: number,
  overrides: Record<string, unknown> = {},
) {
  const broker = await startTestBroker();
  const raw = rawMeterConfig(publicKey, broker.url, overrides);
  const config = validateConfig(raw);
  const collector = await Collector.connect(
    broker.url,
    new Map([[config.meterId, { macKey: config.macKey, deviceKey: config.deviceKey, groups: config.groups }]]),
  );
  const fleet = await XsFleet.start({ configs: [raw], startMs });
  t.teardown(async () => {
    await fleet.close();
    await collector.close();
    await broker.close();
  });
  await fleet.boot();
  return { broker, config, collector, fleet };
}

/** Advances to `toMs`, then waits until every running meter's outbox is empty (all acknowledged). */
export async function advanceAndDrain(fleet: XsFleet, toMs: number, ids: string[] = fleet.meterIds()): Promise<void> {
  await fleet.advanceTo(toMs);
  await drain(fleet, ids);
}

export async function drain(fleet: XsFleet, ids: string[] = fleet.meterIds(), timeoutMs = 15_000): Promise<void> {
  let held = 0;
  const empty = async () => {
    await fleet.settle();
    held = 0;
    for (const id of ids) held += (await fleet.stats(id)).outboxSize;
    return held === 0;
  };
  await until(empty, 'every outbox emptied', timeoutMs, () => ` (outboxes still hold ${held} reports)`);
}
