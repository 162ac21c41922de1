/**
 * The horizon rule, applied by the provider and by every custodian: an aggregate of a slot that
 * ended more than `retention.horizonSeconds` ago is refused (`beyond-horizon`) before anything
 * else is looked at. Collection forgets the once-only records (what was decrypted, what a
 * custodian helped decrypt, a final refusal) only of such slots, and only a margin later, so no
 * slot is ever both forgotten and decryptable: without the rule, a second aggregate for a
 * forgotten slot would be decrypted as if it were the first.
 */
import type { Reason } from '../../firmware/errors.ts';
import { slotAt, slotEndMs } from '../protocol/slots.ts';

/** Collection runs this far behind a retention's edge: a clock stepped back by up to this much still refuses what was forgotten. */
export const COLLECTION_MARGIN_SECONDS = 60;

export interface HorizonTiming {
  slotSeconds: number;
  retention: { horizonSeconds: number };
}

export function beyondHorizon(slot: number, t: HorizonTiming, now: number): { reason: Reason; detail: string } | undefined {
  if (slotEndMs(slot, t.slotSeconds) + t.retention.horizonSeconds * 1000 > now) return undefined;
  return {
    reason: 'beyond-horizon',
    detail: `slot ${slot} ended more than retention.horizonSeconds (${t.retention.horizonSeconds} s) ago: its once-only record is not kept`,
  };
}

/**
 * The first slot whose records are kept when records are kept `keepSeconds` after a slot's end
 * (plus the collection margin): every earlier slot may be collected at `now`.
 */
export function firstKeptSlot(now: number, keepSeconds: number, slotSeconds: number): number {
  return slotAt(now - (keepSeconds + COLLECTION_MARGIN_SECONDS) * 1000, slotSeconds);
}
