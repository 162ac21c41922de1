/**
 * XS meters whose virtual clocks follow the wall clock from the start of the current slot: the
 * aggregator's watermarks are real time, so the meters must live in it too.
 */
import type { ExecutionContext } from 'ava';
import { slotAt } from '../../../host/protocol/slots.ts';
import { XsFleet } from '../../../host/simulate/xs-fleet.ts';

export interface WallClockFleet {
  fleet: XsFleet;
  /** The slot the meters started in, at its first millisecond. */
  first: number;
  startMs: number;
  /** Stops advancing the clocks (idempotent); the fleet itself closes at teardown. */
  halt(): Promise<void>;
}

export async function startWallClockFleet(
  t: ExecutionContext,
  configs: Record<string, unknown>[],
  slotSeconds: number,
  metersPerWorker: number,
): Promise<WallClockFleet> {
  const first = slotAt(Date.now(), slotSeconds);
  const startMs = first * slotSeconds * 1000;
  const fleet = await XsFleet.start({ configs, startMs, metersPerWorker });
  t.teardown(() => fleet.close());
  await fleet.boot();
  let running = true;
  const ticking = (async () => {
    while (running) {
      await fleet.advanceTo(Math.max(fleet.now, Date.now()));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const halt = async () => {
    running = false;
    await ticking;
  };
  t.teardown(halt);
  return { fleet, first, startMs, halt };
}
