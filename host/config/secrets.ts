/**
 * Per-party secrets: each meter's MAC key (authenticates reports), device key (from which each
 * group's acknowledgement key and each custodian's report-authenticator key are derived:
 * firmware/protocol/meter-keys.ts) and MQTT password, and each service's MQTT password. Generated
 * on first run into one file (mode 0600) for the all-in-one deployment; when roles run on separate
 * machines, each gets only its own entries (an aggregator needs its members' MAC keys and its own
 * group's acknowledgement keys, a custodian every meter's key for that custodian, neither a device
 * key; the broker only the passwords).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { deriveMaskKey } from '../../firmware/masked/mask.ts';
import { deriveAckKey, deriveCustodianKey, deriveStatusKey } from '../../firmware/protocol/meter-keys.ts';
import { nodeHmacSha256 } from '../protocol/mac.ts';
import { aggregatorHostUser, aggregatorUser, custodianUser, feederUser, meterUser, PROVIDER_USER } from './identities.ts';
import { allMeters, type MeterveilConfig } from './schema.ts';

export interface MeterSecret {
  macKey: string;
  /** The whole-deployment file holds the device key; a role's file holds only what it derives. */
  deviceKey?: string;
  /** Acknowledgement keys by group id, in an aggregator's own secrets file. */
  ackKeys?: Record<string, string>;
  /**
   * In a custodian's own file, which holds only this (no MAC key, no password): the key this meter
   * shares with that custodian, under which its reports carry that custodian's authenticator.
   */
  custodianKey?: string;
  /**
   * In the provider's own file, which holds only this: the key the meter authenticates its health
   * status with (firmware/protocol/meter-status.ts), so that a status in its name from anyone
   * else is refused.
   */
  statusKey?: string;
  /**
   * Masked deployments, in the provider's own file (single-key mode) or a custodian's: this
   * holder's mask key per key id (firmware/masked/mask.ts). An aggregator's file never has one.
   */
  maskKeys?: Record<string, string>;
  password: string;
}

export interface Secrets {
  meters: Record<string, MeterSecret>;
  /** MQTT passwords of the services, by user name. */
  services: Record<string, string>;
}

const fresh = () => bytesToHex(randomBytes(32));

export function readSecrets(path: string): Secrets {
  if (!existsSync(path)) fail('secrets-missing', `${path} does not exist: run "meterveil start" once or provision the secrets`);
  const s = JSON.parse(readFileSync(path, 'utf8')) as Secrets;
  if (!s || typeof s.meters !== 'object' || typeof s.services !== 'object') fail('bad-secrets', `${path} is not a secrets file`);
  return s;
}

/** Adds secrets for every party the config names that has none yet; never changes existing ones. */
export function ensureSecrets(config: MeterveilConfig): Secrets {
  const path = config.keys.secrets;
  const secrets: Secrets = existsSync(path) ? readSecrets(path) : { meters: {}, services: {} };
  let changed = false;
  for (const meterId of allMeters(config)) {
    const entry = secrets.meters[meterId];
    if (!entry) {
      secrets.meters[meterId] = { macKey: fresh(), deviceKey: fresh(), password: fresh() };
      changed = true;
    } else if (!entry.deviceKey && !entry.ackKeys && !entry.custodianKey) {
      // A file written before acknowledgements were bound to a group: the meter gets a device key.
      entry.deviceKey = fresh();
      changed = true;
    }
  }
  const services = [
    PROVIDER_USER,
    ...config.groups.map((g) => aggregatorUser(g.id)),
    ...config.aggregators.map((h) => aggregatorHostUser(h.name)),
    ...config.groups.map((g) => feederUser(g.feeder)),
    ...custodianUsers(config),
  ];
  for (const user of services) {
    if (!secrets.services[user]) {
      secrets.services[user] = fresh();
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }
  return secrets;
}

/** Threshold mode: custodians 1..n; none in single-key mode. */
export function custodianIndices(config: MeterveilConfig): number[] {
  const d = config.provider.decryption;
  return d.mode === 'threshold' ? Array.from({ length: d.custodians }, (_, i) => i + 1) : [];
}

/** Threshold mode: custodian i logs in as custodian.<i>. */
export function custodianUsers(config: MeterveilConfig): string[] {
  return custodianIndices(config).map(custodianUser);
}

export function meterMacKey(secrets: Secrets, meterId: string): Uint8Array {
  const entry = secrets.meters[meterId] ?? fail('secrets-missing', `no MAC key for meter ${meterId}`);
  return hexToBytes(entry.macKey, `MAC key of ${meterId}`);
}

/** The key `meterId` authenticates its reports to custodian `index` with (no aggregator holds it). */
export function meterCustodianKey(secrets: Secrets, meterId: string, index: number): Uint8Array {
  const entry = secrets.meters[meterId] ?? fail('secrets-missing', `no keys for meter ${meterId}`);
  if (entry.custodianKey !== undefined) return hexToBytes(entry.custodianKey, `custodian key of ${meterId}`);
  if (entry.deviceKey === undefined) fail('secrets-missing', `no key of meter ${meterId} for custodian ${index}`);
  return deriveCustodianKey(hexToBytes(entry.deviceKey, `device key of ${meterId}`), index, nodeHmacSha256);
}

/** The key `meterId` authenticates its health status with; undefined when these secrets cannot give it. */
export function meterStatusKey(secrets: Secrets, meterId: string): Uint8Array | undefined {
  const entry = secrets.meters[meterId];
  if (entry?.statusKey !== undefined) return hexToBytes(entry.statusKey, `status key of ${meterId}`);
  if (entry?.deviceKey === undefined) return undefined;
  return deriveStatusKey(hexToBytes(entry.deviceKey, `device key of ${meterId}`), nodeHmacSha256);
}

/**
 * The mask key `meterId` shares with holder `holder` (0: the provider, i: custodian i) for mask key
 * id `keyId`: from a role file's maskKeys, or derived from the device key.
 */
export function meterMaskKey(secrets: Secrets, meterId: string, keyId: string, holder: number): Uint8Array {
  const entry = secrets.meters[meterId] ?? fail('secrets-missing', `no keys for meter ${meterId}`);
  const given = entry.maskKeys?.[keyId];
  if (given !== undefined) return hexToBytes(given, `mask key ${keyId} of ${meterId}`);
  if (entry.deviceKey === undefined) fail('secrets-missing', `no mask key ${keyId} of meter ${meterId}`);
  return deriveMaskKey(hexToBytes(entry.deviceKey, `device key of ${meterId}`), keyId, holder, nodeHmacSha256);
}

/** The key `groupId`'s aggregator acknowledges `meterId`'s reports with. */
export function meterAckKey(secrets: Secrets, meterId: string, groupId: string): Uint8Array {
  const entry = secrets.meters[meterId] ?? fail('secrets-missing', `no keys for meter ${meterId}`);
  const given = entry.ackKeys?.[groupId];
  if (given !== undefined) return hexToBytes(given, `acknowledgement key of ${meterId} for ${groupId}`);
  if (entry.deviceKey === undefined) fail('secrets-missing', `no acknowledgement key of meter ${meterId} for group ${groupId}`);
  return deriveAckKey(hexToBytes(entry.deviceKey, `device key of ${meterId}`), groupId, nodeHmacSha256);
}

/** Every user name and password the broker must accept. */
export function brokerUsers(secrets: Secrets): Map<string, string> {
  const users = new Map<string, string>();
  for (const [meterId, s] of Object.entries(secrets.meters)) users.set(meterUser(meterId), s.password);
  for (const [user, password] of Object.entries(secrets.services)) users.set(user, password);
  return users;
}

export function servicePassword(secrets: Secrets, user: string): string {
  return secrets.services[user] ?? fail('secrets-missing', `no password for ${user}`);
}
