/**
 * The platform port inside xsnap-worker. Node owns the outside world: it keeps each meter's
 * durable storage, its MQTT client and the entropy source; XS keeps the firmware. Effects leave
 * XS as actions batched into the reply of the command that caused them (so a simulated day does
 * not cross the process boundary once per sample); random bytes are fetched synchronously from
 * Node's crypto.randomBytes, the OS generator.
 */
import { bytesToHex, hexToBytes } from '../../bytes.ts';
import { fail } from '../../errors.ts';
import { keyedHmacSha256 } from '../keyed-hmac.ts';
import type { MeterConfig } from '../../config/schema.ts';
import { SimulatedSensor } from '../../sensors/simulated-sensor.ts';
import { MemoryStorage } from '../memory-storage.ts';
import type { MqttHandlers, MqttPort, Platform } from '../port.ts';
import { VirtualClock } from '../virtual-clock.ts';

export type Action =
  | { kind: 'set'; key: string; value: string }
  | { kind: 'delete'; key: string }
  | { kind: 'connect' }
  | { kind: 'disconnect' }
  | { kind: 'publish'; topic: string; payload: string; retain?: boolean }
  | { kind: 'subscribe'; topic: string }
  | { kind: 'log'; line: string };

export type HostRandom = (length: number) => string;

class BridgedMqtt implements MqttPort {
  handlers: MqttHandlers | undefined;
  connected = false;

  constructor(private readonly emit: (action: Action) => void) {}

  connect(handlers: MqttHandlers): void {
    this.handlers = handlers;
    this.emit({ kind: 'connect' });
  }

  disconnect(): void {
    this.connected = false;
    this.emit({ kind: 'disconnect' });
  }

  publish(topic: string, payload: Uint8Array, retain = false): boolean {
    if (!this.connected) return false;
    this.emit({ kind: 'publish', topic, payload: bytesToHex(payload), ...(retain ? { retain } : {}) });
    return true;
  }

  subscribe(topic: string): void {
    this.emit({ kind: 'subscribe', topic });
  }

  /** Called when Node reports the connection state changed or a message arrived. */
  deliver(event: { op: 'connected' } | { op: 'disconnected' } | { op: 'message'; topic: string; payload: string }): void {
    if (event.op === 'connected') {
      this.connected = true;
      this.handlers?.onConnect();
    } else if (event.op === 'disconnected') {
      this.connected = false;
      this.handlers?.onDisconnect();
    } else {
      this.handlers?.onMessage(event.topic, hexToBytes(event.payload));
    }
  }
}

export interface BridgedPlatform extends Platform {
  readonly clock: VirtualClock;
  readonly mqtt: BridgedMqtt;
}

export function createBridgedPlatform(options: {
  config: MeterConfig;
  startMs: number;
  storage: [string, string][];
  random: HostRandom;
  emit: (action: Action) => void;
}): BridgedPlatform {
  const { config, emit, random } = options;
  if (config.sensor.kind !== 'simulated')
    fail('invalid-config', `sensor.kind: "${config.sensor.kind}" needs a device; the XS simulation runs only "simulated"`);
  const clock = new VirtualClock(options.startMs);
  const storage = new MemoryStorage(
    options.storage.map(([key, hex]) => [key, hexToBytes(hex)] as [string, Uint8Array]),
    (key, value) => emit(value === undefined ? { kind: 'delete', key } : { kind: 'set', key, value: bytesToHex(value) }),
  );
  return {
    name: 'xs-sim',
    clock,
    sensor: new SimulatedSensor(clock, config.sensor),
    randomBytes: (length) => {
      const bytes = hexToBytes(random(length), 'random bytes');
      if (bytes.length !== length) fail('bad-random-source', `host returned ${bytes.length} random bytes, not ${length}`);
      return bytes;
    },
    storage,
    mac: keyedHmacSha256(),
    mqtt: new BridgedMqtt(emit),
    log: (line) => emit({ kind: 'log', line }),
  };
}
