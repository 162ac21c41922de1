/**
 * Start-up on Moddable: load and check the configuration (a meter with a missing or invalid key
 * logs why and stays off the network), build the platform port and run the meter.
 */
import randomBytes from 'meterveil/random';
import { validateDeviceConfig, type DevicePlatform } from '../../config/platform-sensors.ts';
import type { MeterConfig } from '../../config/schema.ts';
import { Meter } from '../../meter/meter.ts';
import type { Clock, PowerSensor, Storage } from '../port.ts';
import { moddableClock } from './clock.ts';
import { loadRawConfig } from './config.ts';
import { freeMemoryBytes } from './free-memory.ts';
import { nativeHmacSha256 } from './hmac.ts';
import { ModdableMqtt } from './mqtt.ts';

export type SensorFactory = (config: MeterConfig, clock: Clock) => PowerSensor;
/** The comb table's storage where the board has a partition for it (its slots fit the key's entries). */
export type TableStorageFactory = (config: MeterConfig) => Storage | undefined;

export function bootMeter(
  platformName: DevicePlatform,
  storage: Storage,
  makeSensor: SensorFactory,
  makeTableStorage: TableStorageFactory,
): Meter | undefined {
  let config: MeterConfig;
  let sensor: PowerSensor;
  try {
    config = validateDeviceConfig(loadRawConfig(), platformName);
    sensor = makeSensor(config, moddableClock);
  } catch (error) {
    trace(`meterveil: refusing to start: ${(error as Error).message}\n`);
    return undefined;
  }
  const meter = new Meter(
    {
      name: platformName,
      clock: moddableClock,
      sensor,
      randomBytes,
      storage,
      tableStorage: makeTableStorage(config),
      mac: nativeHmacSha256,
      mqtt: new ModdableMqtt(config.broker, config.meterId),
      freeMemoryBytes,
      log: (line) => trace(`${line}\n`),
    },
    config,
  );
  meter.start();
  return meter;
}
