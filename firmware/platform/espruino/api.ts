/**
 * What the Espruino adapters use of Espruino itself, typed here once. Espruino's modules are
 * reached through `espruinoModule`, which the bundle's prelude (prelude.js) defines as a call of
 * Espruino's `require`: a bare `require("Storage")` in TypeScript would be taken by the bundler
 * for a module to bundle. The globals below (`E`, `analogRead`) are Espruino's own.
 */

/** `require("Storage")`: files in flash; names of at most 28 characters. */
export interface EspruinoStorage {
  write(name: string, data: string): boolean;
  readArrayBuffer(name: string): ArrayBuffer | undefined;
  readJSON(name: string, noExceptions?: boolean): unknown;
  erase(name: string): void;
  getFree(): number;
}

/** `require("crypto")`: the native digests. */
export interface EspruinoCrypto {
  SHA256(data: Uint8Array | ArrayBuffer | string): ArrayBuffer;
}

/** What the EspruinoDocs MQTT module's `create(server, options)` returns (modules/MQTT.js of 2024-04, which takes publish options). */
export interface EspruinoMqttClient {
  on(event: 'connected' | 'disconnected', listener: () => void): void;
  on(event: 'publish', listener: (message: { topic: string; message: string }) => void): void;
  on(event: 'error', listener: (error: unknown) => void): void;
  connect(): void;
  disconnect(): void;
  /** The message is sent as `message.toString()`: bytes must be a binary string. */
  publish(topic: string, message: string, options: { qos: number }): void;
  subscribe(topic: string, options: { qos: number }): void;
}

export interface EspruinoMqttModule {
  create(
    server: string,
    options: { port: number; client_id: string; username: string; password: string; keep_alive: number },
  ): EspruinoMqttClient;
}

/** A UART (`Serial1`, `Serial2`...). */
export interface EspruinoSerial {
  setup(baud: number, options: { rx?: unknown; tx?: unknown }): void;
  write(data: string): void;
  on(event: 'data', listener: (data: string) => void): void;
  removeAllListeners(event: 'data'): void;
}

declare function espruinoModule(name: 'Storage'): EspruinoStorage;
declare function espruinoModule(name: 'crypto'): EspruinoCrypto;
declare function espruinoModule(name: 'MQTT'): EspruinoMqttModule;
declare const E: { toString(bytes: Uint8Array): string; toUint8Array(text: string): Uint8Array };
declare function analogRead(pin: unknown): number;
declare const global: Record<string, unknown>;

export const storageModule = (): EspruinoStorage => espruinoModule('Storage');
export const cryptoModule = (): EspruinoCrypto => espruinoModule('crypto');
export const mqttModule = (): EspruinoMqttModule => espruinoModule('MQTT');

/** Bytes as the binary string Espruino's sockets, Storage and MQTT module carry. */
export function binaryString(bytes: Uint8Array): string {
  return bytes.length === 0 ? '' : E.toString(bytes);
}

export function bytesOfBinaryString(text: string): Uint8Array {
  return text.length === 0 ? new Uint8Array(0) : E.toUint8Array(text);
}

/** One conversion of an analog pin, 0..1 of the ADC's range. */
export function readAnalog(pin: unknown): number {
  return analogRead(pin);
}

/** A global of Espruino's (a pin such as `D36`, a `Serial2`), by the name the configuration gives. */
export function globalNamed(name: string): unknown {
  return global[name];
}
