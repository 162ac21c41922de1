/** Slot arithmetic shared by the roles: slot s covers [s * slotSeconds, (s + 1) * slotSeconds) seconds after the epoch. */
export interface SlotTiming {
  slotSeconds: number;
  latenessSeconds: number;
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
 * How long after a slot's end a report for it is still accepted. Everything that refuses a
 * second report of a slot (the aggregator's seen rows) must be kept at least this long after the
 * slot's end: collection derives from this function, never from a constant of its own.
 */
export function acceptanceHorizonSeconds(t: SlotTiming): number {
  return t.latenessSeconds;
}

/** When the aggregator closes a slot: its end plus the acceptance horizon. */
export function watermarkMs(slot: number, t: SlotTiming): number {
  return slotEndMs(slot, t.slotSeconds) + acceptanceHorizonSeconds(t) * 1000;
}
