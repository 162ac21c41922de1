/** Driving XS meters in tests: advance virtual time and wait until the network has caught up. */
import type { XsFleet } from '../../../host/simulate/xs-fleet.ts';

/** Advances to `toMs`, then waits until every running meter's outbox is empty (all acknowledged). */
export async function advanceAndDrain(fleet: XsFleet, toMs: number, ids: string[] = fleet.meterIds()): Promise<void> {
  await fleet.advanceTo(toMs);
  await drain(fleet, ids);
}

export async function drain(fleet: XsFleet, ids: string[] = fleet.meterIds(), timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await fleet.settle();
    let held = 0;
    for (const id of ids) held += (await fleet.stats(id)).outboxSize;
    if (held === 0) return;
    if (Date.now() > deadline) throw new Error(`outboxes still hold ${held} reports`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
