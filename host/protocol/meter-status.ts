/**
 * The provider's side of a meter's health status (firmware/protocol/meter-status.ts): parsed
 * strictly, re-encoded and compared byte for byte with what came (any other spelling is refused
 * as malformed), then its tag checked under that meter's status key. The topic's meter must be
 * the status's own.
 */
import { fail } from '../../firmware/errors.ts';
import type { Mac } from '../../firmware/protocol/mac.ts';
import {
  asciiBytes,
  checkMeterStatus,
  MAX_METER_STATUS_BYTES,
  METER_STATUS_FIELDS,
  METER_STATUS_VERSION,
  meterStatusBody,
  meterStatusTag,
  type MeterStatus,
} from '../../firmware/protocol/meter-status.ts';
import { exactKeys, parseJsonMessage } from './json-message.ts';
import { timingSafeEqual } from 'node:crypto';

export function decodeMeterStatus(payload: Uint8Array, statusKeyOf: (meterId: string) => Uint8Array | undefined, mac: Mac): MeterStatus {
  const o = parseJsonMessage(payload, MAX_METER_STATUS_BYTES, 'meter status');
  exactKeys(o, [...METER_STATUS_FIELDS], 'meter status');
  if (o.v !== METER_STATUS_VERSION)
    fail('unsupported-version', `meter status: version ${String(o.v)}, this build speaks ${METER_STATUS_VERSION}`);
  const { v: _v, mac: tag, ...fields } = o;
  const status = checkMeterStatus(fields);
  if (typeof tag !== 'string' || !/^[0-9a-f]{32}$/.test(tag)) fail('malformed', 'meter status: mac must be 32 hex digits');
  const body = meterStatusBody(status);
  const canonical = asciiBytes(`${body},"mac":"${tag}"}`);
  if (canonical.length !== payload.length || !timingSafeEqual(canonical, payload))
    fail('malformed', 'meter status: not in its one encoding (field order, spacing, number form)');
  const key = statusKeyOf(status.meterId) ?? fail('unknown-meter', `meter status: no status key for meter ${status.meterId}`);
  if (!timingSafeEqual(asciiBytes(meterStatusTag(body, key, mac)), asciiBytes(tag))) fail('bad-mac', 'meter status: tag does not verify');
  return {
    meterId: status.meterId,
    firmware: status.firmware,
    keyId: status.keyId,
    at: status.at,
    uptime: status.uptime,
    pool: status.pool,
    outbox: status.outbox,
    dropped: status.dropped,
    acksRejected: status.acksRejected,
    storageFull: status.storageFull,
    sensorMisses: status.sensorMisses,
    freeMemory: status.freeMemory,
  };
}
