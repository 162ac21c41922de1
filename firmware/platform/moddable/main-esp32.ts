/**
 * Firmware entry on the ESP32. Wi-Fi is up and SNTP is asked for the time before this runs (the
 * SDK's setup/network from manifest_net.json, server from config `sntp`); the meter waits for a
 * plausible clock before it measures. The sensor is a PZEM-004T or a CT clamp.
 */
import './web-text.ts';
import { fail } from '../../errors.ts';
import { bootMeter } from './boot.ts';
import { preferenceStorage } from './storage.ts';
import { CtClampSensor } from './sensors/ct-clamp.ts';
import { Pzem004tSensor } from './sensors/pzem004t.ts';

bootMeter('esp32', preferenceStorage, (meterConfig) => {
  const sensor = meterConfig.sensor;
  if (sensor.kind === 'pzem004t') return new Pzem004tSensor(sensor, 2 * meterConfig.sampleMs);
  if (sensor.kind === 'ct-clamp') return new CtClampSensor(sensor);
  return fail('invalid-config', 'sensor.kind: "simulated" is for the lin simulator; the device needs "pzem004t" or "ct-clamp"');
});
