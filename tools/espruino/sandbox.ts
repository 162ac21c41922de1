/**
 * One Espruino board in a Node `vm` context, for running the bundle (build.ts) without Espruino: a
 * context stripped to what Espruino 2v29 has (builtins.ts: no BigInt, Map, Set, Symbol, Proxy,
 * Reflect, WeakMap, and none of the statics and prototype methods it lacks; a typed array's slice
 * gives a plain Array, as there) and small shims of Espruino's own: `require("Storage")` over an
 * in-memory file table that outlives the board (a reboot is a new board on the same files),
 * `require("crypto").SHA256` over Node's crypto, `require("MQTT")` speaking to a real broker
 * through MQTT.js, `E.toString`/`E.toUint8Array`, and `setTimeout`, `setInterval` and `Date.now` (with Espruino's
 * fraction of a millisecond) on a virtual clock.
 * Objects handed to the bundle are made in its context, so no Node built-in leaks into it.
 */
import { createHash } from 'node:crypto';
import vm from 'node:vm';
import mqtt, { type MqttClient } from 'mqtt';
import type { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { ESPRUINO_MISSING_GLOBALS, ESPRUINO_PROTOTYPES, ESPRUINO_STATICS } from './builtins.ts';

/** Espruino's flash files: name to binary string. */
export type EspruinoFiles = Map<string, string>;

export interface SandboxOptions {
  clock: VirtualClock;
  files: EspruinoFiles;
  /** The flash's size in bytes: a write beyond it is refused (Storage.write returns false). */
  flashBytes?: number;
  log?: (line: string) => void;
  /** Globals of the board's hardware (pins such as `D16`, a `Serial2`), as the test makes them. */
  hardware?: Record<string, unknown>;
}

export interface EspruinoBoard {
  /** Runs a script in the board's context (the bundle; an expression for the console). */
  run(script: string): unknown;
  /** Ends the board's MQTT connections (its timers stay on the clock: stop the meter first). */
  powerOff(): Promise<void>;
}

/** The views Espruino has without their statics (from, of): every typed array but Uint8Array, and DataView. */
const BARE_VIEWS = [
  'Int8Array',
  'Uint8ClampedArray',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'DataView',
];
const KEPT_ALWAYS = ['constructor', 'toString', 'valueOf', 'length', 'name', 'prototype'];
const KEPT_GLOBALS = new Set([
  'Object',
  'Function',
  'Array',
  'Number',
  'parseFloat',
  'parseInt',
  'Infinity',
  'NaN',
  'undefined',
  'Boolean',
  'String',
  'Date',
  'Promise',
  'RegExp',
  'Error',
  'TypeError',
  'SyntaxError',
  'ReferenceError',
  'JSON',
  'Math',
  'ArrayBuffer',
  'Uint8Array',
  ...BARE_VIEWS,
  'isFinite',
  'isNaN',
  'encodeURIComponent',
  'decodeURIComponent',
  'eval',
  'globalThis',
]);

function strip(target: Record<string | symbol, unknown>, keep: readonly string[]): void {
  for (const key of Reflect.ownKeys(target)) {
    if (typeof key === 'string' && (keep.includes(key) || KEPT_ALWAYS.includes(key))) continue;
    // Non-configurable ones (Number.EPSILON, Math constants) cannot go; none of them is a function.
    Reflect.deleteProperty(target, key);
  }
}

/** Strips a fresh context down to Espruino's built-ins. */
function espruinoContext(): { context: vm.Context; global: Record<string, any> } {
  const context = vm.createContext({});
  const global = vm.runInContext('this', context) as Record<string, any>;
  for (const name of Reflect.ownKeys(global)) if (typeof name === 'string' && !KEPT_GLOBALS.has(name)) Reflect.deleteProperty(global, name);
  for (const name of ESPRUINO_MISSING_GLOBALS) Reflect.deleteProperty(global, name);
  for (const [name, statics] of Object.entries(ESPRUINO_STATICS)) if (global[name]) strip(global[name], statics);
  for (const name of BARE_VIEWS) strip(global[name], ['prototype', 'BYTES_PER_ELEMENT']);
  strip(global.Array.prototype, ESPRUINO_PROTOTYPES.Array);
  strip(global.String.prototype, ESPRUINO_PROTOTYPES.String);
  strip(global.Number.prototype, ESPRUINO_PROTOTYPES.Number);
  strip(global.ArrayBuffer.prototype, ESPRUINO_PROTOTYPES.ArrayBuffer);
  strip(global.Object.prototype, ['hasOwnProperty', '__proto__']);
  strip(global.Function.prototype, ['call', 'apply', 'bind']);
  const typedArray = Object.getPrototypeOf(global.Uint8Array.prototype);
  strip(typedArray, ESPRUINO_PROTOTYPES.TypedArray);
  strip(Object.getPrototypeOf(global.Uint8Array), ['prototype']);
  // Espruino's Uint8Array.prototype.slice returns a plain Array.
  vm.runInContext(
    `(function (p) { p.slice = function (a, b) { var s = this.subarray(a, b), out = []; for (var i = 0; i < s.length; i++) out.push(s[i]); return out; }; })`,
    context,
  )(typedArray);
  return { context, global };
}

/** The EspruinoDocs MQTT module's interface, over MQTT.js: the same events and the same `message.toString()` on publish. */
function mqttShim(board: { clients: MqttClient[]; log: (line: string) => void }) {
  return {
    create(server: string, options: { port: number; client_id: string; username: string; password: string; keep_alive: number }) {
      const listeners: Record<string, ((...args: unknown[]) => void)[]> = {};
      const emit = (event: string, ...args: unknown[]) => (listeners[event] ?? []).forEach((l) => l(...args));
      let client: MqttClient | undefined;
      let up = false;
      return {
        on(event: string, listener: (...args: unknown[]) => void) {
          (listeners[event] ??= []).push(listener);
        },
        connect() {
          client = mqtt.connect({
            host: server,
            port: options.port,
            clientId: options.client_id,
            username: options.username,
            password: options.password,
            keepalive: options.keep_alive,
            clean: true,
            reconnectPeriod: 0,
            protocolVersion: 4,
          });
          board.clients.push(client);
          client.on('connect', () => {
            up = true;
            emit('connected');
          });
          client.on('close', () => {
            if (!up) return;
            up = false;
            emit('disconnected');
          });
          client.on('error', (error) => board.log(`MQTT: ${error.message}`));
          client.on('message', (topic, payload) => emit('publish', { topic, message: payload.toString('latin1') }));
        },
        disconnect() {
          client?.end();
        },
        publish(topic: string, message: unknown, opts?: { qos?: number }) {
          // What the module does: anything that is not a string goes out as its toString(), and no options is QoS 0.
          client?.publish(topic, Buffer.from(String(message), 'latin1'), { qos: (opts?.qos ?? 0) as 0 | 1 });
        },
        subscribe(topic: string, opts: { qos: number }) {
          client?.subscribe(topic, { qos: opts.qos as 0 | 1 });
        },
      };
    },
  };
}

export function espruinoBoard(options: SandboxOptions): EspruinoBoard {
  const { clock, files } = options;
  const flashBytes = options.flashBytes ?? 256 * 1024;
  const log = options.log ?? (() => {});
  const { context, global } = espruinoContext();
  const U8 = global.Uint8Array as Uint8ArrayConstructor;
  const bytesOf = (data: unknown): Buffer => {
    if (typeof data === 'string') return Buffer.from(data, 'latin1');
    const view = data as Uint8Array;
    if (view && typeof view.byteLength === 'number' && typeof view.byteOffset === 'number')
      return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    if (view && typeof (data as ArrayBuffer).byteLength === 'number') return Buffer.from(data as ArrayBuffer);
    throw new Error(`Espruino shim: cannot read bytes from ${Object.prototype.toString.call(data)}`);
  };
  const toContextBytes = (bytes: Buffer): Uint8Array => {
    const out = new U8(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes[i];
    return out;
  };
  const used = () => [...files.values()].reduce((n, v) => n + v.length, 0);
  const Storage = {
    write(name: string, data: unknown) {
      if (typeof name !== 'string' || name.length > 28) throw new Error(`Storage: file name "${name}" is longer than 28 characters`);
      if (typeof data !== 'string') throw new Error('Storage shim: the meter writes binary strings only');
      if (used() - (files.get(name)?.length ?? 0) + data.length > flashBytes) return false;
      files.set(name, data);
      return true;
    },
    read: (name: string) => files.get(name),
    readArrayBuffer(name: string) {
      const held = files.get(name);
      return held === undefined ? undefined : toContextBytes(Buffer.from(held, 'latin1')).buffer;
    },
    readJSON(name: string, noExceptions?: boolean) {
      const held = files.get(name);
      if (held === undefined) return undefined;
      try {
        return (global.JSON as JSON).parse(held);
      } catch (error) {
        if (noExceptions) return undefined;
        throw error;
      }
    },
    erase: (name: string) => void files.delete(name),
    getFree: () => flashBytes - used(),
    list: () => [...files.keys()],
  };
  const crypto = { SHA256: (data: unknown) => toContextBytes(createHash('sha256').update(bytesOf(data)).digest()).buffer };
  const board = { clients: [] as MqttClient[], log };
  const modules: Record<string, unknown> = { Storage, crypto, MQTT: mqttShim(board) };
  global.require = (name: string) => {
    if (!(name in modules)) throw new Error(`Module ${name} not found`);
    return modules[name];
  };
  global.E = {
    toString: (data: unknown) => bytesOf(data).toString('latin1'),
    toUint8Array: (text: string) => toContextBytes(Buffer.from(text, 'latin1')),
  };
  global.global = global;
  Object.assign(global, options.hardware ?? {});
  global.console = { log: (...args: unknown[]) => log(args.map(String).join(' ')) };
  global.setTimeout = (callback: () => void, ms: number) => clock.setTimer(callback, ms);
  global.clearTimeout = (handle: unknown) => clock.clearTimer(handle);
  // An interval is a timer set again each time it fires, under a handle that stays the same.
  const intervals = new Map<number, unknown>();
  let nextInterval = 1;
  global.setInterval = (callback: () => void, ms: number) => {
    const id = nextInterval++;
    const arm = () =>
      intervals.set(
        id,
        clock.setTimer(() => {
          arm();
          callback();
        }, ms),
      );
    arm();
    return id;
  };
  global.clearInterval = (id: number) => {
    clock.clearTimer(intervals.get(id));
    intervals.delete(id);
  };
  // Espruino's Date.now() has a fraction of a millisecond (1796277379877.127 on the Linux build).
  global.Date.now = () => clock.now() + 0.127;
  return {
    run: (script) => vm.runInContext(script, context),
    async powerOff() {
      await Promise.all(board.clients.map((c) => c.endAsync(true)));
    },
  };
}
