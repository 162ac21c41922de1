/**
 * The configuration of a masked meter (firmware/masked/meter.ts; the Espruino build reads it from
 * Storage, docs/espruino.md): the Paillier meter's fields (schema.ts) without the public key and
 * the comb and pool settings, with the deployment's mask key id instead. Mask keys are derived on
 * the meter from its device key (firmware/masked/mask.ts), as the provider and the custodians
 * derive theirs, so that provisioning writes no key the meter could not make itself.
 */
import { fail } from '../errors.ts';
import { maskedLayoutFor } from '../masked/layout.ts';
import type { MaskedMeterConfig } from '../masked/meter.ts';
import { isKeyId, MAX_AUTHENTICATORS } from '../protocol/report.ts';
import type { BrokerTransports } from './broker-url.ts';
import { id, integerIn } from './rules.ts';
import {
  CONFIG_ERROR,
  isObject,
  parseBroker,
  parseGroups,
  parseMeterLoop,
  parseSecretKey,
  type BrokerConfig,
  type SensorConfig,
} from './schema.ts';

export interface MaskedDeviceConfig extends MaskedMeterConfig {
  broker: BrokerConfig;
  sensor: SensorConfig;
}

/** Reports held by default: a day of 15-minute slots. */
export const DEFAULT_MASKED_OUTBOX = 96;

function invalid(field: string, message: string): never {
  return fail(CONFIG_ERROR, `${field}: ${message}`);
}

export function validateMaskedConfig(raw: unknown, transports: BrokerTransports): MaskedDeviceConfig {
  if (!isObject(raw)) return invalid('config', 'must be a JSON object');
  if (raw.scheme !== 'masked') invalid('scheme', 'must be "masked": this firmware has no Paillier encryption');
  const meterId = id(raw.meterId, 'meterId', invalid);
  if (!isKeyId(raw.keyId)) invalid('keyId', 'must be the mask key id, 16 lowercase hex characters');
  const macKey = parseSecretKey(raw.macKey, 'macKey', 'reports must be authenticated');
  const deviceKey = parseSecretKey(raw.deviceKey, 'deviceKey', 'the mask and acknowledgement keys derive from it');
  if (raw.deviceKey === raw.macKey) invalid('deviceKey', 'must differ from macKey: the aggregators hold macKey');
  const broker = parseBroker(raw.broker, transports);
  const groups = parseGroups(raw.groups);
  const loop = parseMeterLoop(raw, maskedLayoutFor);
  const optional = (field: string, min: number, max: number, fallback: number) =>
    raw[field] === undefined ? fallback : integerIn(raw[field], field, min, max, invalid);
  return {
    meterId,
    keyId: raw.keyId as string,
    macKey,
    deviceKey,
    broker,
    groups,
    custodians: optional('custodians', 0, MAX_AUTHENTICATORS, 0),
    slotSeconds: loop.slotSeconds,
    sampleMs: loop.sampleMs,
    packing: loop.packing,
    checkpointSeconds: loop.checkpointSeconds,
    ackTimeoutSeconds: loop.ackTimeoutSeconds,
    reconnectMinMs: loop.reconnectMinMs,
    reconnectMaxMs: loop.reconnectMaxMs,
    outboxCapacity: optional('outboxCapacity', 1, 10_000, DEFAULT_MASKED_OUTBOX),
    sensor: loop.sensor,
  };
}
