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

/** When the aggregator closes a slot: its end plus the allowed lateness. */
export function watermarkMs(slot: number, t: SlotTiming): number {
  return slotEndMs(slot, t.slotSeconds) + t.latenessSeconds * 1000;
}
