/** Slot arithmetic shared by the roles: slot s covers [s * slotSeconds, (s + 1) * slotSeconds) seconds after the epoch. */
export interface SlotTiming {
  slotSeconds: number;
  latenessSeconds: number;
  outageSeconds: number;
}

export function slotAt(ms: number, slotSeconds: number): number {
  return Math.floor(ms / 1000 / slotSeconds);
}

export function slotStartMs(slot: number, slotSeconds: number): number {
  return slot * slotSeconds * 1000;
}

export function slotEndMs(slot: number, slotSeconds: number): number {
  return (slot + 1) * slotSeconds * 1000;
}

/**
 * How long after a slot's end a report for it is still accepted: the outage bound (config
 * outageSeconds, at least latenessSeconds), up to which an aggregator that was away takes the
 * reports of the slots it had not closed. Everything that refuses a second report of a slot (the
 * aggregator's seen rows) must be kept at least this long after the slot's end: collection derives
 * from this function, never from a constant of its own.
 */
export function acceptanceHorizonSeconds(t: SlotTiming): number {
  return Math.max(t.outageSeconds, t.latenessSeconds);
}

/** After this, nothing of the slot is accepted, even by an aggregator that was away and never closed it. */
export function acceptanceHorizonMs(slot: number, t: SlotTiming): number {
  return slotEndMs(slot, t.slotSeconds) + acceptanceHorizonSeconds(t) * 1000;
}

/** When a running aggregator closes a slot that is not complete: its end plus the lateness. */
export function watermarkMs(slot: number, t: SlotTiming): number {
  return slotEndMs(slot, t.slotSeconds) + t.latenessSeconds * 1000;
}
