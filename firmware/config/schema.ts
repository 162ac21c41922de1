/**
 * The meter's configuration: what provisioning writes (mc/config and preferences on the device,
 * a JSON file in simulation) and what the firmware checks before it measures or publishes
 * anything. Every problem names its field; the whole configuration is refused, never patched,
 * because a meter with a wrong key or id must not publish at all. Documented in docs/firmware.md.
 */
import type { Cosigners } from '../keys/announcement.ts';
import { hexToBytes } from '../bytes.ts';
import { MeterveilError, fail } from '../errors.ts';
import { publicKeyFromJson } from '../paillier/codec.ts';
import { MAX_COMB_BLOCKS, MAX_COMB_HEIGHT } from '../paillier/comb.ts';
import type { PaillierPublicKey } from '../paillier/public-key.ts';
import { MAX_AUTHENTICATORS } from '../protocol/report.ts';
import { PZEM_REINIT_AFTER_MISSES, PZEM_REPLY_TIMEOUT_MS } from '../sensors/pzem004t.ts';
import { MQTTJS_TRANSPORTS, parseBrokerUrl, type BrokerTransports } from './broker-url.ts';
import { checkPacking, slotPackingFor, subSlotMs as subSlotLengthMs, type PackingConfig } from './packing.ts';
import { DEFAULT_ACK_TIMEOUT_SECONDS, SECONDS_PER_DAY, id, slotSeconds as checkSlotSeconds } from './rules.ts';

export type { PackingConfig } from './packing.ts';

export const CONFIG_ERROR = 'invalid-config';
/** Below this the provider's key offers no protection worth the name. */
export const MIN_KEY_BITS = 2048;

export type SensorConfig =
  | { kind: 'simulated'; seed: number; yearlyKwh: number; utcOffsetMinutes: number }
  | {
      kind: 'pzem004t';
      uartPort: number;
      receivePin: number;
      transmitPin: number;
      /** Modbus slave address 1..247: the PZEM answers only requests to its own address. */
      address: number;
      /** A reply not complete this long after its request is a miss; below sampleMs. */
      replyTimeoutMs: number;
      /** Misses in a row after which the UART is closed and opened again. */
      reinitAfterMisses: number;
    }
  | {
      kind: 'ct-clamp';
      pin: number;
      /** Mains voltage the current is multiplied with (a CT clamp measures current only). */
      volts: number;
      /**
       * Amperes per ADC count after removing the mid-rail offset: the clamp's calibration, given
       * or worked out from the circuit (turns, burden resistor, ADC full scale and bits).
       */
      ampsPerCount: number;
      /** ADC count at zero current (the bias of the burden circuit); undefined: measured. */
      zeroCount?: number;
      powerFactor: number;
      mainsHz: number;
    };

export interface BrokerConfig {
  /** The broker the meter dials first: the first of `urls`. */
  url: string;
  /**
   * The brokers of a tier (the nodes of a NATS cluster), in order, when the config lists several
   * (`urls` instead of `url`): the meter moves to the next one each time its connection fails or
   * is lost (brokerUrlAt). All of one kind: TLS (with broker.ca) or, on loopback, plain.
   */
  urls?: string[];
  username?: string;
  password?: string;
  /**
   * mqtts://: the deployment CA's certificate (DER, hex), the one trust anchor the broker's
   * certificate must chain to; required for mqtts://, refused for mqtt://.
   */
  ca?: string;
}

/** A CA certificate's DER: an RSA 2048 CA of provisioning takes about 800 bytes. */
const MAX_CA_BYTES = 2048;
const hexPattern = (): RegExp => /^[0-9a-f]+$/;

/** DER of at most MAX_CA_BYTES in lowercase hex, starting with the SEQUENCE tag 0x30. */
function isCaHex(value: string): boolean {
  return (
    value.length % 2 === 0 && value.length > 2 && value.length <= 2 * MAX_CA_BYTES && value.slice(0, 2) === '30' && hexPattern().test(value)
  );
}

export interface MeterConfig {
  meterId: string;
  publicKey: PaillierPublicKey;
  macKey: Uint8Array;
  /**
   * The meter's own secret (firmware/protocol/meter-keys.ts): each group's acknowledgement key is
   * derived from it, and each aggregator holds only its group's, never this key itself.
   */
  deviceKey: Uint8Array;
  broker: BrokerConfig;
  groups: string[];
  slotSeconds: number;
  sampleMs: number;
  packing: PackingConfig;
  /** Reports the outbox holds; absent: what the platform's storage holds (firmware/meter/outbox.ts). */
  outboxCapacity?: number;
  poolCapacity: number;
  /**
   * Modular products the pool refill and the comb table build may run per loop turn
   * (firmware/meter/randomness.ts); absent: the least that refills two entries per slot without a table.
   */
  stepProducts?: number;
  /** The comb table's height (0: no table) and blocks; absent: the largest the storage holds (randomness.ts). */
  combHeight?: number;
  combBlocks?: number;
  checkpointSeconds: number;
  ackTimeoutSeconds: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** How often the meter publishes its health status (firmware/meter/health.ts), besides at every connect. */
  statusSeconds: number;
  sensor: SensorConfig;
  /** The provider's Ed25519 signing public key (32 bytes); without it the meter never changes keys. */
  signingKey?: Uint8Array;
  /**
   * Threshold deployments: the custodians' Ed25519 public keys and t. A key announcement then needs
   * the cosignatures of t of them besides the provider's signature (firmware/keys/announcement.ts).
   */
  cosigners?: Cosigners;
  /**
   * Threshold deployments: the number of custodians (1..n); each report carries one authenticator
   * per custodian, under a key derived from deviceKey for that custodian (firmware/protocol/meter-keys.ts).
   */
  custodians: number;
}

export const DEFAULTS = {
  slotSeconds: 60,
  sampleMs: 1000,
  packing: { readings: 1, maxGroupSize: 10_000, maxPowerWatts: 23_000 },
  poolCapacity: 4,
  checkpointSeconds: 10,
  ackTimeoutSeconds: DEFAULT_ACK_TIMEOUT_SECONDS,
  reconnectMinMs: 1000,
  reconnectMaxMs: 60_000,
  statusSeconds: 300,
} as const;

function invalid(field: string, message: string): never {
  return fail(CONFIG_ERROR, `${field}: ${message}`);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** By indexOf, not a Set: the same checks run on Espruino, which has none (docs/espruino.md). */
function hasDuplicate(values: readonly unknown[]): boolean {
  return values.some((v, i) => values.indexOf(v) !== i);
}

function integer(obj: Record<string, unknown>, field: string, min: number, max: number, fallback?: number, prefix = ''): number {
  const value = obj[field] ?? fallback;
  const name = prefix + field;
  if (value === undefined) invalid(name, 'is required');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    invalid(name, `must be an integer in ${min}..${max}`);
  }
  return value;
}

function finite(obj: Record<string, unknown>, field: string, min: number, max: number, fallback?: number, prefix = ''): number {
  const value = obj[field] ?? fallback;
  const name = prefix + field;
  if (value === undefined) invalid(name, 'is required');
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    invalid(name, `must be a number in ${min}..${max}`);
  }
  return value;
}

function optionalString(obj: Record<string, unknown>, field: string, prefix: string): string | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) invalid(prefix + field, 'must be a non-empty string');
  return value;
}

function parsePublicKey(value: unknown): PaillierPublicKey {
  if (value === undefined || value === null || value === '')
    invalid('publicKey', 'is required: the meter never publishes without the provider key');
  let key: PaillierPublicKey;
  try {
    key = publicKeyFromJson(value);
  } catch (error) {
    const e = error as MeterveilError;
    return invalid('publicKey', `${e.message}`);
  }
  if (key.bits < MIN_KEY_BITS) invalid('publicKey', `n has ${key.bits} bits; at least ${MIN_KEY_BITS} are required`);
  return key;
}

export function parseSecretKey(value: unknown, field: string, purpose: string): Uint8Array {
  if (value === undefined || value === null || value === '') invalid(field, `is required: ${purpose}`);
  if (typeof value !== 'string' || !/^[0-9a-f]*$/.test(value) || value.length % 2 !== 0) {
    invalid(field, 'must be lowercase hex');
  }
  const key = hexToBytes(value, field);
  if (key.length < 16 || key.length > 64) invalid(field, `must be 16-64 bytes (32 recommended), got ${key.length}`);
  if (key.every((b) => b === key[0])) invalid(field, 'is a constant byte string: provision a random key');
  return key;
}

function parseCosigners(value: unknown): Cosigners | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) return invalid('cosigners', 'must be an object {"threshold","keys"}');
  for (const key of Object.keys(value)) if (key !== 'threshold' && key !== 'keys') invalid('cosigners', `unknown key "${key}"`);
  const keys = value.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 16)
    return invalid('cosigners.keys', 'must list 1-16 custodian signing keys');
  for (const k of keys)
    if (typeof k !== 'string' || !/^[0-9a-f]{64}$/.test(k))
      invalid('cosigners.keys', 'each must be 64 lowercase hex characters (an Ed25519 public key)');
  if (hasDuplicate(keys)) invalid('cosigners.keys', 'lists a key twice');
  const threshold = integer(value, 'threshold', 1, keys.length, undefined, 'cosigners.');
  return { threshold, keys: keys.map((k: string) => hexToBytes(k, 'cosigners.keys')) };
}

function parseSigningKey(value: unknown): Uint8Array | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value))
    invalid('signingKey', 'must be 64 lowercase hex characters (an Ed25519 public key)');
  return hexToBytes(value, 'signingKey');
}

export function parseBroker(value: unknown, transports: BrokerTransports): BrokerConfig {
  if (!isObject(value)) return invalid('broker', 'is required: an object with url');
  const urls = parseBrokerUrls(value, transports);
  const url = urls[0];
  const username = optionalString(value, 'username', 'broker.');
  const password = optionalString(value, 'password', 'broker.');
  if (password !== undefined && username === undefined) invalid('broker.password', 'needs broker.username');
  const ca = value.ca;
  // Hex digits in pairs after the DER SEQUENCE tag, without a counted quantifier or group (Espruino's RegExp has neither).
  if (ca !== undefined && (typeof ca !== 'string' || !isCaHex(ca)))
    invalid('broker.ca', `must be a DER certificate in lowercase hex, at most ${MAX_CA_BYTES} bytes`);
  const secure = (u: string) => u.startsWith('mqtts://') || u.startsWith('wss://');
  const tls = secure(url);
  if (urls.some((u) => secure(u) !== tls)) invalid('broker.urls', 'must all use TLS or all not: one broker.ca serves them all');
  if (tls && ca === undefined) invalid('broker.ca', 'is required for a TLS broker URL: the meter trusts the deployment CA only');
  if (!tls && ca !== undefined) invalid('broker.ca', 'is for a TLS broker URL (mqtts://) only');
  return { url, ...(urls.length > 1 ? { urls } : {}), username, password, ...(ca === undefined ? {} : { ca }) };
}

/** The brokers a meter may be given: the nodes of a cluster, with room for a second site. */
const MAX_BROKER_URLS = 16;

/** `url` (one broker) or `urls` (a tier, in order), each of the form parseBrokerUrl accepts. */
function parseBrokerUrls(value: Record<string, unknown>, transports: BrokerTransports): string[] {
  if (value.urls === undefined) {
    parseBrokerUrl(value.url, 'broker.url', transports, invalid);
    return [value.url as string];
  }
  if (value.url !== undefined) invalid('broker.url', 'give url (one broker) or urls (a tier), not both');
  const urls = value.urls;
  if (!Array.isArray(urls) || urls.length === 0 || urls.length > MAX_BROKER_URLS)
    return invalid('broker.urls', `must list 1..${MAX_BROKER_URLS} broker URLs`);
  urls.forEach((u, i) => parseBrokerUrl(u, `broker.urls[${i}]`, transports, invalid));
  if (hasDuplicate(urls)) invalid('broker.urls', 'lists a broker twice');
  return [...urls] as string[];
}

export function parseGroups(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) return invalid('groups', 'must list at least one group id');
  if (value.length > 16) invalid('groups', 'at most 16 groups');
  value.forEach((groupId, i) => id(groupId, `groups[${i}]`, invalid));
  if (hasDuplicate(value)) invalid('groups', 'lists a group twice');
  return [...value] as string[];
}

function parseSensor(value: unknown): SensorConfig {
  const obj = value === undefined ? { kind: 'simulated' } : value;
  if (!isObject(obj)) return invalid('sensor', 'must be an object with a kind');
  const p = 'sensor.';
  switch (obj.kind) {
    case 'simulated':
      return {
        kind: 'simulated',
        seed: integer(obj, 'seed', 0, 0xffffffff, 1, p),
        yearlyKwh: finite(obj, 'yearlyKwh', 100, 100_000, 3500, p),
        utcOffsetMinutes: integer(obj, 'utcOffsetMinutes', -720, 840, 60, p),
      };
    case 'pzem004t':
      return {
        kind: 'pzem004t',
        uartPort: integer(obj, 'uartPort', 0, 2, 2, p),
        receivePin: integer(obj, 'receivePin', 0, 48, 16, p),
        transmitPin: integer(obj, 'transmitPin', 0, 48, 17, p),
        address: integer(obj, 'address', 1, 247, 1, p),
        // Checked against sampleMs by validateConfig: the default is bounded by it there.
        replyTimeoutMs: integer(obj, 'replyTimeoutMs', 20, 60_000, PZEM_REPLY_TIMEOUT_MS, p),
        reinitAfterMisses: integer(obj, 'reinitAfterMisses', 1, 1000, PZEM_REINIT_AFTER_MISSES, p),
      };
    case 'ct-clamp': {
      const zeroCount = obj.zeroCount === undefined ? undefined : finite(obj, 'zeroCount', 0, 65535, undefined, p);
      return {
        kind: 'ct-clamp',
        pin: integer(obj, 'pin', 0, 48, undefined, p),
        volts: finite(obj, 'volts', 50, 500, 230, p),
        ampsPerCount: clampAmpsPerCount(obj, p),
        zeroCount,
        powerFactor: finite(obj, 'powerFactor', 0.1, 1, 1, p),
        mainsHz: integer(obj, 'mainsHz', 45, 65, 50, p),
      };
    }
    default:
      return invalid('sensor.kind', 'must be "simulated", "pzem004t" or "ct-clamp"');
  }
}

const CLAMP_CIRCUIT_FIELDS = ['burdenOhms', 'turns', 'adcFullScaleVolts', 'adcBits'];

/**
 * A CT clamp's amperes per ADC count: as measured against a reference load (`ampsPerCount`), or
 * from its circuit: the secondary current is the primary over the turns ratio, the burden
 * resistor turns it into volts, and the ADC has 2^adcBits counts over its full scale.
 */
function clampAmpsPerCount(obj: Record<string, unknown>, p: string): number {
  if (!CLAMP_CIRCUIT_FIELDS.some((field) => obj[field] !== undefined)) return finite(obj, 'ampsPerCount', 1e-6, 10, undefined, p);
  if (obj.ampsPerCount !== undefined) {
    invalid(`${p}ampsPerCount`, 'give either ampsPerCount or the circuit (burdenOhms, turns, adcFullScaleVolts), not both');
  }
  const burdenOhms = finite(obj, 'burdenOhms', 0.1, 100_000, undefined, p);
  const turns = finite(obj, 'turns', 1, 100_000, undefined, p);
  const fullScaleVolts = finite(obj, 'adcFullScaleVolts', 0.1, 10, undefined, p);
  const bits = integer(obj, 'adcBits', 8, 16, 12, p);
  // A shift, not `**`: the Espruino build lowers that to Math.pow, which is inexact there.
  const ampsPerCount = (fullScaleVolts * turns) / ((1 << bits) * burdenOhms);
  if (!(ampsPerCount >= 1e-6 && ampsPerCount <= 10)) invalid(`${p}burdenOhms`, `gives ${ampsPerCount} A per count, outside 1e-6..10`);
  return ampsPerCount;
}

/**
 * Checks a configuration (a parsed JSON object) and fills in defaults; throws 'invalid-config'.
 * `transports`: the broker schemes the platform's MQTT client speaks (the device: mqtt:// only).
 */
/** The fields of the metering loop every meter has, whatever its scheme. */
export interface MeterLoopConfig {
  slotSeconds: number;
  sampleMs: number;
  packing: PackingConfig;
  checkpointSeconds: number;
  ackTimeoutSeconds: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  sensor: SensorConfig;
}

/**
 * The loop's fields of a meter configuration (the Paillier meter's here, the masked meter's in
 * masked-schema.ts); `fits` throws when the packing does not fit the scheme's plaintext.
 */
export function parseMeterLoop(
  raw: Record<string, unknown>,
  fits: (slotSeconds: number, packing: PackingConfig) => unknown,
): MeterLoopConfig {
  const slotSeconds = checkSlotSeconds(raw.slotSeconds ?? DEFAULTS.slotSeconds, invalid);
  const sampleMs = integer(raw, 'sampleMs', 100, 60_000, DEFAULTS.sampleMs);

  const packingRaw = raw.packing === undefined ? {} : raw.packing;
  if (!isObject(packingRaw)) return invalid('packing', 'must be an object');
  const packing: PackingConfig = checkPacking(packingRaw, DEFAULTS.packing, invalid);
  const subSlotMs = subSlotLengthMs(slotSeconds, packing);
  if (!Number.isInteger(subSlotMs) || subSlotMs % sampleMs !== 0) {
    invalid('sampleMs', `must divide the sub-slot length (slotSeconds * 1000 / packing.readings = ${subSlotMs} ms)`);
  }
  try {
    fits(slotSeconds, packing);
  } catch (error) {
    invalid('packing', (error as Error).message);
  }

  const checkpointSeconds = integer(raw, 'checkpointSeconds', 0, SECONDS_PER_DAY, DEFAULTS.checkpointSeconds);
  if (checkpointSeconds > 0 && (checkpointSeconds * 1000) % sampleMs !== 0)
    invalid('checkpointSeconds', 'must be a multiple of sampleMs (0 disables)');
  const sensor = parseSensor(raw.sensor);
  if (sensor.kind === 'pzem004t') {
    if (isObject(raw.sensor) && raw.sensor.replyTimeoutMs === undefined) {
      sensor.replyTimeoutMs = Math.min(sensor.replyTimeoutMs, Math.floor(sampleMs / 2));
    } else if (sensor.replyTimeoutMs >= sampleMs) {
      invalid('sensor.replyTimeoutMs', `must be below sampleMs (${sampleMs}): a reply must settle before the next sample`);
    }
  }
  const reconnectMinMs = integer(raw, 'reconnectMinMs', 100, 3_600_000, DEFAULTS.reconnectMinMs);
  const reconnectMaxMs = integer(raw, 'reconnectMaxMs', reconnectMinMs, 3_600_000, Math.max(DEFAULTS.reconnectMaxMs, reconnectMinMs));
  const ackTimeoutSeconds = integer(raw, 'ackTimeoutSeconds', 1, SECONDS_PER_DAY, DEFAULTS.ackTimeoutSeconds);
  return { slotSeconds, sampleMs, packing, checkpointSeconds, ackTimeoutSeconds, reconnectMinMs, reconnectMaxMs, sensor };
}

export function validateConfig(raw: unknown, transports: BrokerTransports = MQTTJS_TRANSPORTS): MeterConfig {
  if (!isObject(raw)) return invalid('config', 'must be a JSON object');
  const meterId = id(raw.meterId, 'meterId', invalid);
  const publicKey = parsePublicKey(raw.publicKey);
  const signingKey = parseSigningKey(raw.signingKey);
  const cosigners = parseCosigners(raw.cosigners);
  if (cosigners && !signingKey) invalid('cosigners', 'needs signingKey: without it the meter never changes keys');
  const macKey = parseSecretKey(raw.macKey, 'macKey', 'reports must be authenticated');
  const deviceKey = parseSecretKey(raw.deviceKey, 'deviceKey', 'acknowledgements must be authenticated per group');
  if (raw.deviceKey === raw.macKey) invalid('deviceKey', 'must differ from macKey: the aggregators hold macKey');
  const broker = parseBroker(raw.broker, transports);
  const groups = parseGroups(raw.groups);

  const loop = parseMeterLoop(raw, (slotSeconds, packing) => slotPackingFor(slotSeconds, packing, publicKey.bits));
  const { slotSeconds, sampleMs, packing, checkpointSeconds, reconnectMinMs, reconnectMaxMs, sensor } = loop;

  return {
    meterId,
    publicKey,
    macKey,
    deviceKey,
    broker,
    groups,
    slotSeconds,
    sampleMs,
    packing,
    outboxCapacity: raw.outboxCapacity === undefined ? undefined : integer(raw, 'outboxCapacity', 1, 10_000),
    poolCapacity: integer(raw, 'poolCapacity', 1, 64, DEFAULTS.poolCapacity),
    stepProducts: raw.stepProducts === undefined ? undefined : integer(raw, 'stepProducts', 1, 4096),
    combHeight: raw.combHeight === undefined ? undefined : integer(raw, 'combHeight', 0, MAX_COMB_HEIGHT),
    combBlocks: raw.combBlocks === undefined ? undefined : integer(raw, 'combBlocks', 1, MAX_COMB_BLOCKS),
    checkpointSeconds,
    ackTimeoutSeconds: loop.ackTimeoutSeconds,
    reconnectMinMs,
    reconnectMaxMs,
    statusSeconds: integer(raw, 'statusSeconds', 10, SECONDS_PER_DAY, DEFAULTS.statusSeconds),
    sensor,
    signingKey,
    cosigners,
    custodians: integer(raw, 'custodians', 0, MAX_AUTHENTICATORS, 0),
  };
}
