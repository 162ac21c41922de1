/**
 * Firmware entry in the Moddable `lin` simulator: the host clock is already right, there is no
 * sensor hardware, so the meter measures the synthetic household of its configuration.
 */
import './web-text.ts';
import type { SensorConfig } from '../../config/schema.ts';
import { SimulatedSensor } from '../../sensors/simulated-sensor.ts';
import { bootMeter } from './boot.ts';
import { fileStorage } from './file-storage.ts';
import { traceMemory } from './memory-trace.ts';

export default function main(): void {
  traceMemory();
  bootMeter('lin', fileStorage(), (meterConfig, clock) => {
    // bootMeter has refused a sensor this build cannot drive (firmware/config/platform-sensors.ts).
    const sensor = meterConfig.sensor;
    return new SimulatedSensor(clock, sensor as Extract<SensorConfig, { kind: 'simulated' }>);
  });
}
