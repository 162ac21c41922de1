/**
 * The health status a meter publishes, retained, on `meterveil/v1/meters/{meterId}/status`: its
 * firmware, key, buffers and counts of what went wrong, and never a reading nor anything computed
 * from one (docs/privacy.md). JSON in exactly one form (these fields in this order, integers,
 * ids and hex that need no escaping), so that the host re-encodes what it parsed and refuses any
 * other spelling: the tag is over the bytes before `,"mac"`, and two spellings of one status
 * cannot both verify. The tag is HMAC-SHA256 truncated to 16 bytes under the meter's status key
 * (deriveStatusKey), which only the provider gets: nobody else can publish a status in its name.
 * Built as one short string, well under 300 bytes for ids of up to 20 characters.
 */
import { bytesToHex } from '../bytes.ts';
import { fail } from '../errors.ts';
import type { Mac } from './mac.ts';
import { isKeyId, isValidId } from './report.ts';

export const METER_STATUS_VERSION = 1;
export const STATUS_MAC_BYTES = 16;
export const MAX_METER_STATUS_BYTES = 512;
/** A fresh RegExp per use: the firmware is preloaded, and XS's exec writes its match state into the RegExp object, which a module-level one keeps in flash, read-only (lin: a segfault). */
const firmwarePattern = (): RegExp => /^[0-9A-Za-z.+-]{1,32}$/;

export interface MeterStatus {
  meterId: string;
  firmware: string;
  /** The key the open slot is encrypted under. */
  keyId: string;
  /** The meter's clock when it built the status, Unix seconds: a later status replaces an earlier one. */
  at: number;
  /** Seconds since the firmware started. */
  uptime: number;
  /** Precomputed randomness for the open slot's key. */
  pool: number;
  /** Reports waiting for every group's acknowledgement, and those the outbox gave up since provisioning. */
  outbox: number;
  dropped: number;
  acksRejected: number;
  storageFull: number;
  sensorMisses: number;
  /** Bytes free where the platform can tell, otherwise null. */
  freeMemory: number | null;
}

/** Every field of the message, in its order. */
export const METER_STATUS_FIELDS = [
  'v',
  'meterId',
  'firmware',
  'keyId',
  'at',
  'uptime',
  'pool',
  'outbox',
  'dropped',
  'acksRejected',
  'storageFull',
  'sensorMisses',
  'freeMemory',
  'mac',
] as const;

export function meterStatusTopic(meterId: string): string {
  return `meterveil/v1/meters/${meterId}/status`;
}

export const METER_STATUS_TOPIC_FILTER = 'meterveil/v1/meters/+/status';

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Refuses (malformed, malformed-id) a status that has no single spelling; returns it typed. */
export function checkMeterStatus(s: Record<string, unknown>): MeterStatus {
  if (!isValidId(s.meterId)) fail('malformed-id', 'meter status: meterId is not an id');
  if (typeof s.firmware !== 'string' || !firmwarePattern().test(s.firmware))
    fail('malformed', 'meter status: firmware must be 1-32 characters of 0-9 A-Z a-z . + -');
  if (!isKeyId(s.keyId)) fail('malformed', 'meter status: keyId must be 16 hex digits');
  for (const field of ['at', 'uptime', 'pool', 'outbox', 'dropped', 'acksRejected', 'storageFull', 'sensorMisses'] as const)
    if (!isCount(s[field])) fail('malformed', `meter status: ${field} must be a non-negative integer`);
  if (s.freeMemory !== null && !isCount(s.freeMemory)) fail('malformed', 'meter status: freeMemory must be a non-negative integer or null');
  return s as unknown as MeterStatus;
}

/** The bytes the tag is computed over: the message up to, not including, `,"mac"`. */
export function meterStatusBody(s: MeterStatus): string {
  return (
    `{"v":${METER_STATUS_VERSION},"meterId":"${s.meterId}","firmware":"${s.firmware}","keyId":"${s.keyId}","at":${s.at}` +
    `,"uptime":${s.uptime},"pool":${s.pool},"outbox":${s.outbox},"dropped":${s.dropped},"acksRejected":${s.acksRejected}` +
    `,"storageFull":${s.storageFull},"sensorMisses":${s.sensorMisses},"freeMemory":${s.freeMemory === null ? 'null' : s.freeMemory}`
  );
}

export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function meterStatusTag(body: string, statusKey: Uint8Array, mac: Mac): string {
  return bytesToHex(mac(statusKey, asciiBytes(body)).subarray(0, STATUS_MAC_BYTES));
}

export function encodeMeterStatus(status: MeterStatus, statusKey: Uint8Array, mac: Mac): Uint8Array {
  const body = meterStatusBody(checkMeterStatus(status as unknown as Record<string, unknown>));
  return asciiBytes(`${body},"mac":"${meterStatusTag(body, statusKey, mac)}"}`);
}
