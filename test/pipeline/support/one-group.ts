/**
 * The common shape of a pipeline test: one group's deployment with its provider and aggregator
 * running in the test's process, its members as Node meters, and every decrypted total collected;
 * torn down with the test. Slots are wall-clock slots of the deployment (2 s).
 */
import type { ExecutionContext } from 'ava';
import { runAggregator, type RunningAggregator } from '../../../host/aggregator/run.ts';
import type { Decrypted } from '../../../host/provider/provider.ts';
import { runProvider, type RunningProvider } from '../../../host/provider/run.ts';
import { slotAt, slotStartMs } from '../../../host/protocol/slots.ts';
import type { NodeMeter } from '../../../host/simulate/node-meter.ts';
import { deploy, type TestDeployment } from '../../../tools/pipeline/deployment.ts';

export const GROUP = 'street';

export interface OneGroup {
  d: TestDeployment;
  members: string[];
  provider: RunningProvider;
  aggregator: RunningAggregator;
  meters: NodeMeter[];
  decrypted: Decrypted[];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The start of the next slot, so that a test's reports all fall in one slot. */
export async function nextSlot(slotSeconds: number): Promise<number> {
  const slot = slotAt(Date.now(), slotSeconds) + 1;
  await sleep(slotStartMs(slot, slotSeconds) - Date.now() + 20);
  return slot;
}

export async function oneGroup(
  t: ExecutionContext,
  options: {
    members: string[];
    k: number;
    deploy?: Omit<Parameters<typeof deploy>[0], 'groups'>;
    /** Runs after the deployment is made and before its provider starts (e.g. its custodians). */
    before?: (d: TestDeployment) => Promise<void>;
  },
): Promise<OneGroup> {
  const { members, k } = options;
  const d = await deploy({ groups: [{ id: GROUP, members, feeder: `feeder-${GROUP}`, k }], ...options.deploy });
  t.teardown(() => d.cleanup());
  await options.before?.(d);
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const aggregator = await runAggregator(d.config, GROUP);
  t.teardown(() => aggregator.stop());
  const meters = await Promise.all(members.map((m) => d.meter(m, [GROUP])));
  return { d, members, provider, aggregator, meters, decrypted };
}

/** Every meter reports its reading for the next slot, acknowledged; the slot. */
export async function reportNextSlot(g: OneGroup, readings: readonly bigint[]): Promise<number> {
  const slot = await nextSlot(g.d.config.slotSeconds);
  await Promise.all(g.meters.map((m, i) => m.report(slot, [readings[i]])));
  return slot;
}
