/**
 * Firmware entry on the ESP32. Wi-Fi is up and SNTP is asked for the time before this runs (the
 * SDK's setup/network from manifest_net.json, server from config `sntp`); the meter waits for a
 * plausible clock before it measures. The sensor is a PZEM-004T or a CT clamp.
 */
import './web-text.ts';
import type { SensorConfig } from '../../config/schema.ts';
import { bootMeter } from './boot.ts';
import { preferenceStorage } from './storage.ts';
import { CtClampSensor } from './sensors/ct-clamp.ts';
import { Pzem004tSensor } from './sensors/pzem004t.ts';

bootMeter('esp32', preferenceStorage, (meterConfig) => {
  // bootMeter has refused a sensor this build cannot drive (firmware/config/platform-sensors.ts).
  const sensor = meterConfig.sensor;
  if (sensor.kind === 'pzem004t') return new Pzem004tSensor(sensor, 2 * meterConfig.sampleMs);
  return new CtClampSensor(sensor as Extract<SensorConfig, { kind: 'ct-clamp' }>);
});
