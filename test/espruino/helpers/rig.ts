/**
 * What a sandboxed Espruino run meets, on one virtual clock: the masked deployment's custodians
 * (verifiable mode), its provider, whose decrypted totals are collected, an aggregator per group,
 * and the boards; and the totals the simulated households make the slots come to.
 */
import type { ExecutionContext } from 'ava';
import { VirtualClock } from '../../../firmware/platform/virtual-clock.ts';
import { runAggregator } from '../../../host/aggregator/run.ts';
import { runMaskedCustodian } from '../../../host/custodian/run.ts';
import { householdOf } from '../../../host/feeder/households.ts';
import type { Decrypted } from '../../../host/provider/provider.ts';
import { runProvider } from '../../../host/provider/run.ts';
import type { TestDeployment } from '../../../tools/pipeline/deployment.ts';
import { expectedReadings } from '../../firmware/helpers/expected.ts';
import { until } from '../../helpers/poll.ts';
import { EspruinoBoards } from './boards.ts';

export async function sandboxedRoles(t: ExecutionContext, d: TestDeployment, code: string, startMs: number, custodians = 0) {
  const clock = new VirtualClock(startMs);
  const now = () => clock.now();
  for (let index = 1; index <= custodians; index++) {
    const custodian = await runMaskedCustodian(d.config, index, { now });
    t.teardown(() => custodian.stop());
  }
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { now, onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  for (const group of d.config.groups) {
    const aggregator = await runAggregator(d.config, group.id, { now });
    t.teardown(() => aggregator.stop());
  }
  const boards = new EspruinoBoards(code, clock);
  t.teardown(() => boards.close());
  /** Moves the clock past the watermark of the slot ending at `lastEndMs` and waits for `count` decrypted totals. */
  const allDecrypted = async (lastEndMs: number, count: number) => {
    clock.advanceTo(lastEndMs + 120_000);
    await until(
      () => decrypted.length === count,
      `${count} slot totals to be decrypted`,
      20_000,
      () => ` (${decrypted.length} so far)`,
    );
  };
  return { clock, decrypted, boards, allDecrypted };
}

/** Each slot's total of the members' simulated households, from `startMs`, sampled every `sampleMs`. */
export function householdTotals(
  members: readonly string[],
  o: { startMs: number; sampleMs: number; slotMs: number; readings: number; slots: number },
): bigint[] {
  const totals = Array.from({ length: o.slots }, () => 0n);
  for (const meterId of members) {
    const readings = expectedReadings(householdOf(meterId), {
      startMs: o.startMs,
      sampleMs: o.sampleMs,
      subSlotMs: o.slotMs / o.readings,
      subSlots: o.slots * o.readings,
    });
    readings.forEach((r, i) => (totals[Math.floor(i / o.readings)] += BigInt(r)));
  }
  return totals;
}
