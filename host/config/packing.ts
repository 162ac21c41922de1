/** The slot packing of the config, computed exactly as the meters compute theirs. */
import { fail } from '../../firmware/errors.ts';
import { maxReadingMwh } from '../../firmware/meter/energy.ts';
import { SlotPacking } from '../../firmware/paillier/packing.ts';
import type { MeterveilConfig } from './schema.ts';

export function subSlotMs(config: MeterveilConfig): number {
  const ms = (config.slotSeconds * 1000) / config.packing.readings;
  if (!Number.isInteger(ms)) fail('bad-config', 'slotSeconds * 1000 must be divisible by packing.readings');
  return ms;
}

export function slotPacking(config: MeterveilConfig, modulusBits: number): SlotPacking {
  return SlotPacking.forBounds({
    maxReading: BigInt(maxReadingMwh(config.packing.maxPowerWatts, subSlotMs(config))),
    maxSummands: config.packing.maxGroupSize,
    readings: config.packing.readings,
    modulusBits,
  });
}
