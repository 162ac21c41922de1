/**
 * Slot numbers for tests that choose their own: `offset` slots after a base some 6,000 slots ago,
 * well inside the default retention horizon (7 days; 10,080 slots of 60 s), so that the horizon
 * rule (host/policy/horizon.ts) takes them for recent slots, as a slot numbered 100 (in 1970)
 * would not be. Offsets up to about 5,000 stay in the past.
 */
import { slotAt } from '../../host/protocol/slots.ts';

export function recentSlot(offset: number, slotSeconds: number): number {
  return slotAt(Date.now(), slotSeconds) - 6000 + offset;
}
