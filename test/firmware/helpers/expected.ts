/**
 * What the meter should report, recomputed independently of the firmware's integrator: the
 * household's power at each sample time (integer milliwatts, held since the previous sample),
 * summed per sub-slot, as whole milliwatt-hours of the running total (so sub-mWh remainders
 * carry over exactly as the documented unit says).
 */
import { HouseholdProfile, type HouseholdParameters } from '../../../firmware/sensors/household.ts';

export function expectedReadings(
  household: HouseholdParameters,
  options: { startMs: number; sampleMs: number; subSlotMs: number; subSlots: number },
): number[] {
  const profile = new HouseholdProfile(household);
  const { startMs, sampleMs, subSlotMs, subSlots } = options;
  const out: number[] = [];
  let totalMilliwattMs = 0n;
  let reportedMwh = 0n;
  for (let k = 0; k < subSlots; k++) {
    const end = startMs + (k + 1) * subSlotMs;
    for (let t = startMs + k * subSlotMs + sampleMs; t <= end; t += sampleMs) {
      totalMilliwattMs += BigInt(Math.round(profile.powerWatts(t) * 1000)) * BigInt(sampleMs);
    }
    const cumulativeMwh = totalMilliwattMs / 3_600_000n;
    out.push(Number(cumulativeMwh - reportedMwh));
    reportedMwh = cumulativeMwh;
  }
  return out;
}
