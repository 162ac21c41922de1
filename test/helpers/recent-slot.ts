/**
 * Slot numbers for tests that choose their own: `offset` slots after a base some 6,000 slots ago,
 * well inside the default retention horizon (7 days; 10,080 slots of 60 s), so that the horizon
 * rule (host/policy/horizon.ts) takes them for recent slots, as a slot numbered 100 (in 1970)
 * would not be. Offsets up to about 5,000 stay in the past. The base is fixed at its first use in
 * a test file, so one offset names one slot however long the file runs (across a slot boundary).
 */
import { slotAt } from '../../host/protocol/slots.ts';

const bases = new Map<number, number>();

export function recentSlot(offset: number, slotSeconds: number): number {
  let base = bases.get(slotSeconds);
  if (base === undefined) {
    base = slotAt(Date.now(), slotSeconds) - 6000;
    bases.set(slotSeconds, base);
  }
  return base + offset;
}
