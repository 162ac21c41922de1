/** The SDK's PZEM-004T energy monitor driver ($(MODULES)/drivers/sensors/pzem-004t), which ships no typings. */
declare module 'embedded:sensor/Energy/PZEM004T' {
  interface PzemSample {
    voltage: number;
    current: number;
    /** Active power in watts. */
    power: number;
    /** Energy register in watt-hours. */
    energy: number;
    frequency: number;
    powerFactor: number;
    alarmStatus: boolean;
  }

  class PZEM004T {
    constructor(options: { sensor: Record<string, unknown> });
    sample(callback: (error: Error | undefined, sample: PzemSample | undefined) => void): void;
    configure(options?: Record<string, unknown>): void;
    close(): void;
  }

  export default PZEM004T;
}
