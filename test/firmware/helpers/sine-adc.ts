/**
 * An ADC on a CT clamp's burden resistor with a steady 50 Hz load, in the shape of ECMA-419
 * `embedded:io/analog`: mid-rail bias 2048 counts, amplitude in counts. Time is the test's: each
 * conversion takes 50 microseconds of it, so the clamp's RMS and calibration arithmetic can be
 * checked without the hardware and without the machine's scheduler in the result. The test sets
 * `globalThis.sineAdc` (the sensor under test is bundled with its own copy of this module).
 */
export interface SineAdcState {
  amplitude: number;
  nowMs: number;
}

export default class SineAdc {
  readonly resolution = 12;

  constructor(_options: { pin: number }) {}

  read(): number {
    const state = (globalThis as { sineAdc?: SineAdcState }).sineAdc!;
    state.nowMs += 0.05;
    return Math.round(2048 + state.amplitude * Math.sin((2 * Math.PI * 50 * state.nowMs) / 1000));
  }
}
