/**
 * The platform port on Node: for running the firmware directly in V8 (tests of the loop, quick
 * experiments). The fleet simulation runs the firmware inside XS instead (xs-fleet.ts).
 */
import { randomBytes } from 'node:crypto';
import type { MeterConfig } from '../../firmware/config/schema.ts';
import { fail } from '../../firmware/errors.ts';
import type { Clock, Platform, Storage } from '../../firmware/platform/port.ts';
import { keyedHmacSha256 } from '../../firmware/platform/keyed-hmac.ts';
import { SimulatedSensor } from '../../firmware/sensors/simulated-sensor.ts';
import { NodeMqttPort } from './node-mqtt-port.ts';

export function createNodePlatform(options: {
  config: MeterConfig;
  clock: Clock;
  storage: Storage;
  log?: (line: string) => void;
}): Platform & { mqtt: NodeMqttPort } {
  const { config, clock, storage } = options;
  if (config.sensor.kind !== 'simulated')
    fail('invalid-config', `sensor.kind: "${config.sensor.kind}" needs a device; Node runs only "simulated"`);
  return {
    name: 'node',
    clock,
    sensor: new SimulatedSensor(clock, config.sensor),
    randomBytes: (length) => new Uint8Array(randomBytes(length)),
    storage,
    mac: keyedHmacSha256(),
    mqtt: new NodeMqttPort({
      url: config.broker.url,
      urls: config.broker.urls,
      clientId: config.meterId,
      username: config.broker.username,
      password: config.broker.password,
      ca: config.broker.ca,
    }),
    log: options.log ?? (() => {}),
  };
}
