/**
 * The open slot's integration state, saved every checkpointSeconds and at every slot close, so
 * that a reboot resumes the slot instead of losing what was measured. It holds sub-slot
 * readings of this meter only and never leaves the meter's own storage.
 */
import type { Storage } from '../platform/port.ts';
import type { IntegratorState } from './energy.ts';
import { utf8Decode, utf8Encode } from '../text.ts';

const CHECKPOINT_KEY = 'mt.ck';

export function saveCheckpoint(storage: Storage, state: IntegratorState): void {
  storage.set(CHECKPOINT_KEY, utf8Encode(JSON.stringify(state)));
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The saved state, or undefined when there is none or it does not parse (then the slot restarts). */
export function loadCheckpoint(storage: Storage): IntegratorState | undefined {
  const bytes = storage.get(CHECKPOINT_KEY);
  if (!bytes) return undefined;
  try {
    const s = JSON.parse(utf8Decode(bytes));
    if (!isCount(s.lastSampleMs) || !isCount(s.subSlot) || !isCount(s.accumulated) || !isCount(s.carry)) return undefined;
    if (!Array.isArray(s.readings) || !s.readings.every(isCount)) return undefined;
    if (s.midSlotStart !== undefined && !isCount(s.midSlotStart)) return undefined;
    const state: IntegratorState = {
      lastSampleMs: s.lastSampleMs,
      subSlot: s.subSlot,
      accumulated: s.accumulated,
      carry: s.carry,
      readings: s.readings,
    };
    if (s.midSlotStart !== undefined) state.midSlotStart = s.midSlotStart;
    return state;
  } catch {
    return undefined;
  }
}
