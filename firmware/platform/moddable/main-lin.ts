/**
 * Firmware entry in the Moddable `lin` simulator: the host clock is already right, there is no
 * sensor hardware, so the meter measures the synthetic household of its configuration.
 */
import './web-text.ts';
import type { SensorConfig } from '../../config/schema.ts';
import { SimulatedSensor } from '../../sensors/simulated-sensor.ts';
import { bootMeter } from './boot.ts';
import config from 'mc/config';
import { flashTableBudget } from '../storage-budget.ts';
import { fileStorage, STATE_FOLDER } from './file-storage.ts';
import { traceMemory } from './memory-trace.ts';

export default function main(): void {
  traceMemory();
  bootMeter(
    'lin',
    fileStorage(),
    (meterConfig, clock) => {
      // bootMeter has refused a sensor this build cannot drive (firmware/config/platform-sensors.ts).
      const sensor = meterConfig.sensor;
      return new SimulatedSensor(clock, sensor as Extract<SensorConfig, { kind: 'simulated' }>);
    },
    // The board's comb table partition (manifest config tableStorageBytes, 0: none) as a folder of its size.
    (meterConfig) => {
      const bytes = Number(config.tableStorageBytes);
      return bytes > 0 ? fileStorage(`${STATE_FOLDER}table/`, flashTableBudget(bytes, meterConfig.publicKey.ciphertextBytes)) : undefined;
    },
  );
}
