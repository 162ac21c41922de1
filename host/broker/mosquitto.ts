/**
 * Files for running Debian's mosquitto (2.x) as the broker: a config, a password file
 * (mosquitto_passwd hashes) and an ACL file generated from the same table as the embedded broker.
 * Note that mosquitto drops an unauthorised publish silently (MQTT 3.1.1 has no refusal for it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ACK_TIMEOUT_SECONDS } from '../../firmware/config/rules.ts';
import { fail } from '../../firmware/errors.ts';
import { largestSessionMeters } from '../config/placement.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { isLoopbackHost } from '../net/loopback.ts';
import type { Acl } from './acl.ts';

export interface MosquittoFiles {
  configPath: string;
  passwordPath: string;
  aclPath: string;
}

/**
 * Where mosquitto listens: an address, or every interface when `host` is absent; with `tls`, MQTT
 * over TLS (1.2 at least) with the broker's certificate. A listener without TLS is for loopback only.
 */
export interface MosquittoListener {
  port: number;
  host?: string;
  tls?: MosquittoTlsFiles;
}

/** Paths of the broker's PEM files: the CA (which it sends with its chain), its certificate and key. */
export interface MosquittoTlsFiles {
  cafile: string;
  certfile: string;
  keyfile: string;
}

function listenerLines(l: MosquittoListener): string[] {
  if (!l.tls && (l.host === undefined || !isLoopbackHost(l.host)))
    fail(
      'plain-off-loopback',
      `a mosquitto listener without TLS on port ${l.port} would be reachable beyond loopback (${l.host ?? 'every interface'})`,
    );
  return [
    l.host ? `listener ${l.port} ${l.host}` : `listener ${l.port}`,
    ...(l.tls ? [`cafile ${l.tls.cafile}`, `certfile ${l.tls.certfile}`, `keyfile ${l.tls.keyfile}`, 'tls_version tlsv1.2'] : []),
  ];
}

export interface MosquittoConfOptions {
  listeners: MosquittoListener[];
  passwordPath: string;
  aclPath: string;
  /** Keep sessions and queued QoS 1 messages across restarts in this folder; absent: in memory only. */
  persistenceDir?: string;
  /** Messages queued per offline persistent session before mosquitto drops new ones. */
  maxQueuedMessages?: number;
  /**
   * A persistent session whose client stays away longer than this is removed with its queue, so
   * that the persistence file does not keep a decommissioned meter's or role's messages forever.
   * Rounded up to whole hours (mosquitto's smallest unit here); absent: sessions never expire.
   */
  sessionExpirySeconds?: number;
  /** The user mosquitto switches to when started as root; absent: Debian's `mosquitto` user. */
  user?: string;
}

export function mosquittoAclText(acl: Acl): string {
  const lines: string[] = [];
  for (const [user, p] of acl) {
    lines.push(`user ${user}`);
    for (const t of p.publish) lines.push(`topic write ${t}`);
    for (const t of p.subscribe) lines.push(`topic read ${t}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function mosquittoConf(options: MosquittoConfOptions): string {
  const persistence = options.persistenceDir
    ? [
        'persistence true',
        `persistence_location ${options.persistenceDir.endsWith('/') ? options.persistenceDir : options.persistenceDir + '/'}`,
        'autosave_interval 60',
      ]
    : ['persistence false'];
  return [
    ...(options.user ? [`user ${options.user}`] : []),
    'per_listener_settings false',
    ...options.listeners.flatMap(listenerLines),
    'allow_anonymous false',
    `password_file ${options.passwordPath}`,
    `acl_file ${options.aclPath}`,
    ...persistence,
    ...(options.maxQueuedMessages ? [`max_queued_messages ${options.maxQueuedMessages}`] : []),
    ...(options.sessionExpirySeconds ? [`persistent_client_expiration ${Math.ceil(options.sessionExpirySeconds / 3600)}h`] : []),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    // The embedded broker's bound (host/broker/frame-guard.ts): a report is far below it.
    'max_packet_size 1048576',
    '',
  ].join('\n');
}

/**
 * Room for what the largest session queues through an outage of the deployment's bound (config
 * outageSeconds), never fewer than 1000 (mosquitto's own default):
 * - an aggregator's (a group's or a placed host's meters): each slot's report and its resends every
 *   ackTimeoutSeconds until the aggregator is back; with the defaults (60 s slots and timeout, ten
 *   minutes) 110 messages per meter;
 * - the provider's and a custodian's: each slot's aggregate, evidence and feeder reading of every
 *   group, which nobody sends again once the broker has taken them (a deployment of many small
 *   groups queues more there than at any aggregator).
 * A full queue drops new messages: the meters send theirs again, but maybe after their slots closed.
 */
export function queuedMessagesBound(
  sessions: { largestSessionMeters: number; groups: number },
  slotSeconds: number,
  outageSeconds: number,
  ackTimeoutSeconds = DEFAULT_ACK_TIMEOUT_SECONDS,
): number {
  return Math.max(
    1000,
    sessions.largestSessionMeters * queuedPerMeter(slotSeconds, outageSeconds, ackTimeoutSeconds),
    sessions.groups * MESSAGES_PER_GROUP_SLOT * Math.ceil(outageSeconds / slotSeconds),
  );
}

/** queuedMessagesBound for a config: the bound `start`, `broker --mosquitto-files`, `load` and the embedded broker give every session. */
export function sessionQueueBound(config: MeterveilConfig): number {
  return queuedMessagesBound(
    { largestSessionMeters: largestSessionMeters(config), groups: config.groups.length },
    config.slotSeconds,
    config.outageSeconds,
  );
}

/** What the provider's and custodians' sessions take per group and slot: the aggregate, its evidence, the feeder's reading. */
const MESSAGES_PER_GROUP_SLOT = 3;

/** One meter's reports through an outage of the bound, with their resends: what its topic may queue. */
export function queuedPerMeter(slotSeconds: number, outageSeconds: number, ackTimeoutSeconds = DEFAULT_ACK_TIMEOUT_SECONDS): number {
  return Math.ceil(outageSeconds / slotSeconds) * (1 + Math.floor(outageSeconds / ackTimeoutSeconds));
}

export function writeMosquittoFiles(
  dir: string,
  options: {
    host: string;
    port: number;
    users: Map<string, string>;
    acl: Acl;
    tls?: { ca: string; cert: string; key: string };
    persistenceDir?: string;
    /** Default: mosquitto's 1000. */
    maxQueuedMessages?: number;
  },
): MosquittoFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mosquitto saves its sessions there at exit, and does not make the folder.
  if (options.persistenceDir) mkdirSync(options.persistenceDir, { recursive: true, mode: 0o700 });
  const passwordPath = join(dir, 'passwords');
  const aclPath = join(dir, 'acl');
  const configPath = join(dir, 'mosquitto.conf');

  writeFileSync(passwordPath, [...options.users].map(([u, p]) => `${u}:${p}`).join('\n') + '\n', { mode: 0o600 });
  // -U rewrites the plain-text file in place with salted hashes.
  execFileSync('mosquitto_passwd', ['-U', passwordPath], { stdio: 'pipe' });
  writeFileSync(aclPath, mosquittoAclText(options.acl), { mode: 0o600 });
  let tls: MosquittoTlsFiles | undefined;
  if (options.tls) {
    tls = { cafile: join(dir, 'ca.pem'), certfile: join(dir, 'broker.pem'), keyfile: join(dir, 'broker-key.pem') };
    writeFileSync(tls.cafile, options.tls.ca, { mode: 0o644 });
    writeFileSync(tls.certfile, options.tls.cert, { mode: 0o644 });
    writeFileSync(tls.keyfile, options.tls.key, { mode: 0o600 });
  }
  writeFileSync(
    configPath,
    mosquittoConf({
      // Started as root, mosquitto switches to this user: the one that owns the 0600 files.
      user: userInfo().username,
      listeners: [{ port: options.port, host: options.host, tls }],
      passwordPath,
      aclPath,
      persistenceDir: options.persistenceDir,
      maxQueuedMessages: options.maxQueuedMessages,
    }),
  );
  return { configPath, passwordPath, aclPath };
}
