/**
 * Per-party secrets: each meter's MAC key (authenticates reports and acks) and MQTT password, and
 * each service's MQTT password. Generated on first run into one file (mode 0600) for the
 * all-in-one deployment; when roles run on separate machines, each gets only its own entries
 * (an aggregator needs its members' MAC keys, the broker only the passwords).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { aggregatorUser, custodianUser, feederUser, meterUser, PROVIDER_USER } from './identities.ts';
import { allMeters, type MeterveilConfig } from './schema.ts';

export interface MeterSecret {
  macKey: string;
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
    if (!secrets.meters[meterId]) {
      secrets.meters[meterId] = { macKey: fresh(), password: fresh() };
      changed = true;
    }
  }
  const services = [
    PROVIDER_USER,
    ...config.groups.map((g) => aggregatorUser(g.id)),
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

/** Threshold mode: custodian i logs in as custodian.<i>. */
export function custodianUsers(config: MeterveilConfig): string[] {
  const d = config.provider.decryption;
  return d.mode === 'threshold' ? Array.from({ length: d.custodians }, (_, i) => custodianUser(i + 1)) : [];
}

export function meterMacKey(secrets: Secrets, meterId: string): Uint8Array {
  const entry = secrets.meters[meterId] ?? fail('secrets-missing', `no MAC key for meter ${meterId}`);
  return hexToBytes(entry.macKey, `MAC key of ${meterId}`);
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
