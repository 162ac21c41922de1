/**
 * The simulated households behind the simulated meters: each meter id maps to fixed household
 * parameters, so the simulated fleet and the simulated feeder meters describe the same homes.
 */
import type { HouseholdParameters } from '../../firmware/sensors/household.ts';

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function householdOf(meterId: string): HouseholdParameters {
  const seed = hash32(meterId);
  return { seed, yearlyKwh: 1500 + (seed % 4000), utcOffsetMinutes: 60 };
}
