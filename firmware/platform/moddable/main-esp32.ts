/**
 * Firmware entry on the ESP32. Wi-Fi is up and SNTP is asked for the time before this runs (the
 * SDK's setup/network from manifest_net.json, server from config `sntp`); the meter waits for a
 * plausible clock before it measures. The sensor is a PZEM-004T on a UART or a CT clamp on an ADC pin.
 */
import './web-text.ts';
import Analog from 'embedded:io/analog';
import type { SensorConfig } from '../../config/schema.ts';
import { CtClampSensor } from '../../sensors/ct-clamp.ts';
import { Pzem004tSensor } from '../../sensors/pzem004t.ts';
import { bootMeter } from './boot.ts';
import { SerialUart } from './serial-uart.ts';
import { flashTableStorage } from './flash-table-storage.ts';
import { preferenceStorage } from './storage.ts';

/** The comb table's data partition (manifests/esp32/partitions.csv); a board without it keeps a small table in NVS. */
const TABLE_PARTITION = 'mvtable';

export default function main(): void {
  bootMeter(
    'esp32',
    preferenceStorage,
    (meterConfig, clock) => {
      // bootMeter has refused a sensor this build cannot drive (firmware/config/platform-sensors.ts).
      const sensor = meterConfig.sensor;
      if (sensor.kind === 'pzem004t') {
        return new Pzem004tSensor(new SerialUart(sensor), clock, { ...sensor, maxAgeMs: 2 * meterConfig.sampleMs });
      }
      const clamp = sensor as Extract<SensorConfig, { kind: 'ct-clamp' }>;
      return new CtClampSensor(new Analog({ pin: clamp.pin }), clamp, () => Date.now());
    },
    (meterConfig) => flashTableStorage(TABLE_PARTITION, meterConfig.publicKey.ciphertextBytes),
  );
}
