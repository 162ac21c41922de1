/**
 * One sample of the sensor as the metering loops take it (the Paillier meter, meter.ts, and the
 * masked one, firmware/masked/meter.ts): integer milliwatts clamped to [0, maxPowerWatts] so that
 * packing can never overflow, or a miss when the sensor has no finite reading (its interval then
 * adds no energy); and the integrator a loop starts with, resumed from the checkpoint when it holds
 * the open slot.
 */
import type { PowerSensor, Storage } from '../platform/port.ts';
import { loadCheckpoint } from './checkpoint.ts';
import { EnergyIntegrator, type SlotReadings } from './energy.ts';

export type Sample = { milliwatts: number; clamped: boolean } | undefined;

export function sampleMilliwatts(sensor: PowerSensor, maxMilliwatts: number): Sample {
  let watts: number | undefined;
  try {
    watts = sensor.readPowerWatts();
  } catch {
    watts = undefined;
  }
  if (watts === undefined || typeof watts !== 'number' || !isFinite(watts)) return undefined;
  const milliwatts = Math.round(watts * 1000);
  if (milliwatts >= 0 && milliwatts <= maxMilliwatts) return { milliwatts, clamped: false };
  return { milliwatts: Math.min(Math.max(milliwatts, 0), maxMilliwatts), clamped: true };
}

export interface Resumed {
  integrator: EnergyIntegrator;
  /** Slots the gap since the checkpoint closed (restartAt), to be reported now. */
  closed: SlotReadings[];
  /** Seconds without measurement, when the gap was too long to bridge. */
  gapSeconds?: number;
}

/**
 * The checkpoint's integration state when it belongs to the slot structure and is not from the
 * future; a gap longer than `bridgeableGapMs` since its last sample closes what it held and starts
 * over, so that the gap adds no invented energy. Otherwise a fresh integrator from `now`.
 */
export function resumeIntegrator(storage: Storage, subSlotMs: number, readings: number, now: number, bridgeableGapMs: number): Resumed {
  const restored = loadCheckpoint(storage);
  if (!restored || restored.lastSampleMs > now || restored.readings.length >= readings)
    return { integrator: new EnergyIntegrator(subSlotMs, readings, now), closed: [] };
  const integrator = new EnergyIntegrator(subSlotMs, readings, now, restored);
  if (now - restored.lastSampleMs <= bridgeableGapMs) return { integrator, closed: [] };
  return { integrator, closed: integrator.restartAt(now), gapSeconds: Math.round((now - restored.lastSampleMs) / 1000) };
}
