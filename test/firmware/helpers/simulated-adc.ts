/**
 * An ADC on a CT clamp's burden resistor with a steady sinusoidal load: `offset` counts of bias
 * (the burden circuit's mid-rail), `amplitude` counts peak, rounded and clipped to 12 bits. Each
 * conversion advances the simulated time by `conversionMs`, which the sensor under test reads as
 * its clock, so the RMS over its window is deterministic.
 */
import type { Adc } from '../../../firmware/sensors/ct-clamp.ts';

export class SimulatedAdc implements Adc {
  nowMs: number;

  constructor(
    private readonly wave: { offset: number; amplitude: number; hz: number; conversionMs: number; phase: number },
    startMs: number,
  ) {
    this.nowMs = startMs;
  }

  read(): number {
    this.nowMs += this.wave.conversionMs;
    const value = this.wave.offset + this.wave.amplitude * Math.sin(2 * Math.PI * this.wave.hz * (this.nowMs / 1000) + this.wave.phase);
    return Math.min(4095, Math.max(0, Math.round(value)));
  }
}
