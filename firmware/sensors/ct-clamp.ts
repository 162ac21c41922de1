/**
 * Power from a current-transformer clamp on an ADC pin: the RMS current over whole mains cycles,
 * times the configured voltage and power factor. A CT clamp measures current only, so this is an
 * estimate of active power; calibration (amperes per count, zero offset) comes from the
 * configuration.
 */
import type { PowerSensor } from '../platform/port.ts';

const CYCLES = 2;

/** One conversion at a time, as ECMA-419 `embedded:io/analog` gives them on the ESP32. */
export interface Adc {
  read(): number;
}

export class CtClampSensor implements PowerSensor {
  constructor(
    private readonly adc: Adc,
    private readonly options: {
      volts: number;
      ampsPerCount: number;
      zeroCount?: number;
      powerFactor: number;
      mainsHz: number;
    },
    private readonly now: () => number,
  ) {}

  readPowerWatts(): number | undefined {
    const windowMs = (1000 * CYCLES) / this.options.mainsHz;
    const start = this.now();
    let count = 0;
    let sum = 0;
    let sumOfSquares = 0;
    // Busy sampling for two cycles: the ADC has no buffered mode in ECMA-419.
    while (this.now() - start < windowMs) {
      const value = this.adc.read();
      sum += value;
      sumOfSquares += value * value;
      count += 1;
    }
    if (count < 20) return undefined;
    const zero = this.options.zeroCount ?? sum / count;
    // Mean of (x - zero)^2 from the running sums, without keeping the samples.
    const meanSquare = sumOfSquares / count - 2 * zero * (sum / count) + zero * zero;
    const amps = Math.sqrt(Math.max(0, meanSquare)) * this.options.ampsPerCount;
    return amps * this.options.volts * this.options.powerFactor;
  }
}
