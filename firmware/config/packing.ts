/**
 * The slot packing, from the configuration values every party of a group shares (slotSeconds
 * and the packing fields): the meter packs its readings with it, the aggregator and the provider
 * check and unpack group totals with the same one. Bounds and derivation live here once.
 */
import { maxReadingMwh } from '../meter/energy.ts';
import { SlotPacking } from '../paillier/packing.ts';
import { integerIn, type Refuse } from './rules.ts';

export interface PackingConfig {
  /** Sub-slot readings per report: slotSeconds / readings seconds each. */
  readings: number;
  /** Largest number of reports ever summed: at least the size of the largest group. */
  maxGroupSize: number;
  /** Largest power a meter reports; samples above are clamped and counted. Bounds one reading. */
  maxPowerWatts: number;
}

/**
 * maxPowerWatts stops at 100 kW: it is the clamp of one meter's samples, and a household
 * connection (63 A on three phases at 230 V, about 43.5 kW) stays well below it. A larger value
 * would only widen every packing slot, and the meters refuse it, so the host refuses it too.
 */
export const PACKING_LIMITS = {
  readings: { min: 1, max: 255 },
  maxGroupSize: { min: 1, max: 10_000_000 },
  maxPowerWatts: { min: 1, max: 100_000 },
} as const;

/** Checks the packing fields of a configuration object, with defaults for those absent. */
export function checkPacking(raw: Record<string, unknown>, defaults: PackingConfig, refuse: Refuse): PackingConfig {
  const field = (name: keyof PackingConfig) =>
    integerIn(raw[name] ?? defaults[name], `packing.${name}`, PACKING_LIMITS[name].min, PACKING_LIMITS[name].max, refuse);
  return { readings: field('readings'), maxGroupSize: field('maxGroupSize'), maxPowerWatts: field('maxPowerWatts') };
}

/** The length of one sub-slot; not always whole milliseconds, which the configuration checks refuse. */
export function subSlotMs(slotSeconds: number, packing: Pick<PackingConfig, 'readings'>): number {
  return (slotSeconds * 1000) / packing.readings;
}

/** The packing of a slot under a key of `modulusBits`; throws 'packing-does-not-fit' when it cannot hold. */
export function slotPackingFor(slotSeconds: number, packing: PackingConfig, modulusBits: number): SlotPacking {
  return SlotPacking.forBounds({
    maxReading: BigInt(maxReadingMwh(packing.maxPowerWatts, subSlotMs(slotSeconds, packing))),
    maxSummands: packing.maxGroupSize,
    readings: packing.readings,
    modulusBits,
  });
}
