/**
 * Firmware entry in the Moddable `lin` simulator: the host clock is already right, there is no
 * sensor hardware, so the meter measures the synthetic household of its configuration.
 */
import './web-text.ts';
import { fail } from '../../errors.ts';
import { SimulatedSensor } from '../../sensors/simulated-sensor.ts';
import { bootMeter } from './boot.ts';
import { fileStorage } from './file-storage.ts';
import { traceMemory } from './memory-trace.ts';

traceMemory();

bootMeter('lin', fileStorage(), (meterConfig, clock) => {
  const sensor = meterConfig.sensor;
  if (sensor.kind !== 'simulated') return fail('invalid-config', 'sensor.kind: the lin simulator has no sensor hardware; use "simulated"');
  return new SimulatedSensor(clock, sensor);
});
