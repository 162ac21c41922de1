/**
 * Boots the Espruino meter: reads its configuration from the Storage file `meterveil.json`
 * (docs/espruino.md), refuses it whole if any field is wrong or names a sensor the build cannot
 * drive, and runs the masked meter (firmware/masked/meter.ts) on Espruino's clock, Storage, MQTT
 * module, native SHA-256 and the configured sensor. The running meter is the global `meterveil`
 * (its `stats()` on the console). The entries (main.ts, main-board.ts) differ in their sensors.
 */
import { validateMaskedConfig } from '../../config/masked-schema.ts';
import type { SensorConfig } from '../../config/schema.ts';
import { MeterveilError } from '../../errors.ts';
import { MaskedMeter } from '../../masked/meter.ts';
import type { Clock, PowerSensor } from '../port.ts';
import { storageModule } from './api.ts';
import { espruinoHmacSha256 } from './hmac.ts';
import { ESPRUINO_TRANSPORTS, espruinoMqtt } from './mqtt.ts';
import { CONFIG_FILE, espruinoStorage } from './storage.ts';

export type SensorFactory = (sensor: SensorConfig, clock: Clock, sampleMs: number) => PowerSensor;

declare const global: Record<string, unknown>;
declare const console: { log(line: string): void };

const clock: Clock = {
  // Espruino's Date.now() has a fraction of a millisecond (1796277379877.127): the integrator's
  // state would then hold fractions, and the checkpoint, which takes whole counts only, would be
  // refused at every boot, losing the open slot.
  now: () => Math.floor(Date.now()),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => {
    if (handle !== undefined) clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

function start(sensorOf: SensorFactory): MaskedMeter | undefined {
  const log = (line: string) => console.log(line);
  let config;
  let sensor;
  try {
    config = validateMaskedConfig(storageModule().readJSON(CONFIG_FILE, true), ESPRUINO_TRANSPORTS);
    sensor = sensorOf(config.sensor, clock, config.sampleMs);
  } catch (error) {
    // A meter with a wrong key or id must not publish at all.
    log(
      `meterveil: ${CONFIG_FILE} refused, the meter stays off the network: ${error instanceof MeterveilError ? error.message : String(error)}`,
    );
    return undefined;
  }
  const meter = new MaskedMeter(
    {
      clock,
      sensor,
      storage: espruinoStorage(storageModule().getFree()),
      mac: espruinoHmacSha256(),
      // The broker lets a meter in under its own user name as client id only (host/config/identities.ts).
      mqtt: espruinoMqtt(config.broker, config.broker.username || config.meterId, clock),
      jitterByte: () => Math.floor(Math.random() * 256),
      log,
    },
    config,
  );
  meter.start();
  return meter;
}

export function bootEspruinoMeter(sensorOf: SensorFactory): void {
  global.meterveil = start(sensorOf);
}
