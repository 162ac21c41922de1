/**
 * Which sensors a firmware build can drive: the ESP32 entry reads a PZEM-004T or a CT clamp, the
 * `lin` simulator has no sensor hardware and measures a simulated household. The entries and
 * provisioning apply the same table, so a configuration a meter would refuse at boot is refused
 * when it is provisioned instead.
 */
import { fail } from '../errors.ts';
import { DEVICE_TRANSPORTS } from './broker-url.ts';
import { validateConfig, type MeterConfig, type SensorConfig } from './schema.ts';

export type DevicePlatform = 'esp32' | 'lin';

export const PLATFORM_SENSORS: Record<DevicePlatform, readonly SensorConfig['kind'][]> = {
  esp32: ['pzem004t', 'ct-clamp'],
  lin: ['simulated'],
};

const WHY: Record<DevicePlatform, string> = {
  esp32: '"simulated" is for the lin simulator; the device needs "pzem004t" or "ct-clamp"',
  lin: 'the lin simulator has no sensor hardware; use "simulated"',
};

/** Refuses with 'invalid-config', as the schema does, a sensor the platform cannot drive. */
export function checkPlatformSensor(platform: DevicePlatform, sensor: SensorConfig): void {
  if (!PLATFORM_SENSORS[platform].includes(sensor.kind)) fail('invalid-config', `sensor.kind: ${WHY[platform]}`);
}

/** What a Moddable build accepts at boot: the schema with the device's broker schemes, and a sensor it can drive. */
export function validateDeviceConfig(raw: unknown, platform: DevicePlatform): MeterConfig {
  const config = validateConfig(raw, DEVICE_TRANSPORTS);
  checkPlatformSensor(platform, config.sensor);
  return config;
}
