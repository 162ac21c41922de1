/**
 * What a feeder meter measures in simulation: the energy its households drew during a slot, plus
 * line losses and any unmetered load (a tap before the meters: theft). The household power is a
 * pure function of (parameters, time), constant within each minute, so the integral is exact.
 */
import { HouseholdProfile, type HouseholdParameters } from '../../firmware/sensors/household.ts';
import { slotEndMs, slotStartMs } from '../protocol/slots.ts';

const MS_PER_MINUTE = 60_000;
/** W * ms in one mWh. */
const WATT_MS_PER_MWH = 3_600;

export function householdEnergyMwh(profile: HouseholdProfile, fromMs: number, toMs: number): number {
  let energy = 0;
  for (let t = fromMs; t < toMs;) {
    const next = Math.min(toMs, (Math.floor(t / MS_PER_MINUTE) + 1) * MS_PER_MINUTE);
    energy += profile.powerWatts(t) * (next - t);
    t = next;
  }
  return energy / WATT_MS_PER_MWH;
}

export interface Theft {
  watts: number;
  fromSlot: number;
}

export interface FeederPhysics {
  households: HouseholdParameters[];
  slotSeconds: number;
  /** Share of the delivered energy lost on the line before the meters (e.g. 0.02). */
  lineLoss: number;
  unmeteredWatts: number;
  /** Simulation: a further unmetered load (a tap before the meters) from this slot on. */
  theft?: Theft;
  /** Simulation: the households are connected from this Unix time (ms); nothing flows before it. */
  connectedSinceMs?: number;
}

/** The slot's energy through the feeder, or undefined for a slot that ended before the households were connected. */
export function feederEnergyMwh(p: FeederPhysics, slot: number): bigint | undefined {
  const from = Math.max(slotStartMs(slot, p.slotSeconds), p.connectedSinceMs ?? -Infinity);
  const to = slotEndMs(slot, p.slotSeconds);
  if (to <= from) return undefined;
  let metered = 0;
  for (const h of p.households) metered += householdEnergyMwh(new HouseholdProfile(h), from, to);
  const stolen = p.theft && slot >= p.theft.fromSlot ? p.theft.watts : 0;
  const unmetered = ((p.unmeteredWatts + stolen) * (to - from)) / WATT_MS_PER_MWH;
  return BigInt(Math.round((metered + unmetered) * (1 + p.lineLoss)));
}
