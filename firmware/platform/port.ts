/**
 * The platform port: everything the metering firmware needs from the device, and nothing more.
 * The firmware (firmware/meter/) is written against these interfaces only, so the same code runs
 * on the ESP32 and the Moddable `lin` simulator (firmware/platform/moddable/) and inside XS
 * driven from Node in virtual time (firmware/platform/xs-sim/).
 */
import type { RandomBytes } from '../paillier/random.ts';
import type { Mac, MacStream } from '../protocol/mac.ts';

export type { Mac, MacStream, RandomBytes };

/** Opaque handle of a one-shot timer. */
export type TimerHandle = unknown;

export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch (UTC). */
  now(): number;
  /** Calls `callback` once, `delayMs` from now. */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/**
 * A power sensor. `readPowerWatts` returns the active power in watts (a finite number), or
 * undefined when the sensor has no valid reading right now (a bus error, a sensor warming up).
 * The firmware integrates power over time; sensors never see slots.
 */
export interface PowerSensor {
  readPowerWatts(): number | undefined;
  /** The counters of a sensor on a bus (the PZEM-004T): what the meter's stats show under `sensor`. */
  stats?(): SensorStats;
}

export interface SensorStats {
  requests: number;
  replies: number;
  /** Requests without a valid reply (by reason: firmware/reasons/meter.ts, `sensor-*`). */
  misses: number;
  missesByReason: Partial<Record<string, number>>;
  /** Times the bus was closed and opened again after a run of misses. */
  reinits: number;
  /** Readings given from the reply before the last request, which was missed. */
  held: number;
}

/**
 * Small persistent key-value storage. Keys are at most 15 characters (the ESP32 NVS limit) and
 * values at most 4000 bytes. A write is durable once `set` returns. A write the storage has no
 * room for throws `storage-full` and leaves the previous value in place: callers that can make
 * room (the outbox) do so and count what they gave up.
 */
export interface Storage {
  /** The bytes of values it holds in all, counted as firmware/platform/storage-budget.ts counts. */
  readonly capacityBytes: number;
  /** What one value of this length costs of capacityBytes: NVS's count (storage-budget.ts) when absent. */
  readonly storedBytes?: (valueLength: number) => number;
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
  delete(key: string): void;
}

export interface MqttHandlers {
  onConnect(): void;
  /** The connection is gone (or never came up); the firmware decides when to try again. */
  onDisconnect(): void;
  onMessage(topic: string, payload: Uint8Array): void;
}

/**
 * One MQTT session. The firmware owns reconnection (with backoff) and delivery guarantees:
 * adapters neither retry nor queue.
 */
export interface MqttPort {
  connect(handlers: MqttHandlers): void;
  /** Drops the session; onDisconnect follows. */
  disconnect(): void;
  /**
   * QoS 1 where the client supports it; returns false when not connected (nothing was sent).
   * Retained: the broker keeps it as the topic's latest message for later subscribers.
   */
  publish(topic: string, payload: Uint8Array, retain?: boolean): boolean;
  subscribe(topic: string): void;
}

export interface Platform {
  readonly name: string;
  readonly clock: Clock;
  readonly sensor: PowerSensor;
  /** Cryptographically secure random bytes from the platform's entropy source. */
  readonly randomBytes: RandomBytes;
  readonly storage: Storage;
  /**
   * Where the comb table lives on a board with a partition for it (raw flash on the ESP32, a folder
   * of that size on lin): absent, the table shares `storage` with the meter's records and the outbox.
   */
  readonly tableStorage?: Storage;
  /** HMAC-SHA256: the SDK's native digest on the device, a portable implementation elsewhere. */
  readonly mac: Mac;
  /**
   * The same MAC fed in parts, where it is portable JavaScript (the XS simulation): the meter then
   * MACs a report over several loop turns (seal-job.ts). Absent (the device's native digest): in one.
   */
  readonly macStream?: MacStream;
  readonly mqtt: MqttPort;
  /** Free heap bytes where the platform can tell (the meter's health status); absent otherwise. */
  freeMemoryBytes?(): number | undefined;
  /** One line of operational log. Never pass a plaintext reading. */
  log(line: string): void;
}
