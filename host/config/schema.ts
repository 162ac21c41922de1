/**
 * The one configuration every role reads (docs/pipeline.md is its reference). Parsing is strict:
 * an unknown key or an impossible value stops the process with a named reason, because a typo in
 * k or in a member list would otherwise weaken privacy silently.
 */
import { parseBrokerUrl, type BrokerAddress, type BrokerTransports } from '../../firmware/config/broker-url.ts';
import { checkPacking, subSlotMs, type PackingConfig } from '../../firmware/config/packing.ts';
import {
  DEFAULT_ACK_TIMEOUT_SECONDS,
  id as checkId,
  integerIn,
  slotSeconds as checkSlotSeconds,
  type Refuse,
} from '../../firmware/config/rules.ts';
import { fail } from '../../firmware/errors.ts';
import { maskedPackingFor } from '../../firmware/masked/params.ts';
import { isLoopbackHost } from '../net/loopback.ts';
import { isServiceName } from './identities.ts';
import { parsePlacement, type AggregatorHost } from './placement.ts';
import { parseRetention, type RetentionConfig } from './retention.ts';
import { MAX_CUSTODIANS, refuseDisjointQuorums } from '../threshold/threshold-key.ts';

export interface GroupConfig {
  id: string;
  /** Meter ids whose reports this group's aggregator sums. A meter may be in several groups. */
  members: string[];
  /** The utility's own meter on this group's feeder: measures the true total. */
  feeder: string;
  /** Minimum contributors for a slot to be published (aggregator) or decrypted (provider). */
  k: number;
}

/** Must equal the meters' packing: both derive the same slot widths (firmware/config/packing.ts). */
export type { PackingConfig } from '../../firmware/config/packing.ts';

/**
 * How the provider decrypts: with its own private key (CRT), or by asking custodians that each
 * hold a share of the key (docs/keys.md), any `threshold` of `custodians` together.
 */
export type DecryptionConfig =
  | { mode: 'single' }
  | {
      mode: 'threshold';
      /**
       * The provider's threshold key ring: public key files (public.json with verification keys),
       * old keys first, each held in shares by the same custodians (docs/keys.md, key rotation).
       */
      publicKeys: string[];
      /** The newest key of the ring. */
      publicKey: string;
      custodians: number;
      threshold: number;
      /** How long one request waits for the custodians' partial decryptions. */
      timeoutMs: number;
      /** How often a slot whose decryption failed for want of answers is asked for again. */
      retryMs: number;
      /**
       * The custodians' signing-public files, custodian i's at [i - 1]: aggregators then accept
       * reports under a key besides keys.publicKey only once an announcement of it carries the
       * cosignatures of `threshold` custodians (firmware/keys/announcement.ts).
       */
      cosigners?: string[];
      /** 2 * threshold <= custodians accepted: two disjoint custodian sets could each decrypt one of a differencing pair. */
      allowUndetectableDifferencing: boolean;
    };

/**
 * What the meters send: Paillier ciphertexts (the default), or additively masked values
 * (firmware/masked/, docs/security.md) for meters without BigInt. A masked deployment's key ids
 * name generations of the meters' mask keys, old first: each is provisioned like a MAC key
 * (host/config/secrets.ts), and rotating means provisioning a new one.
 */
export type SchemeConfig = { name: 'paillier' } | { name: 'masked'; keyIds: string[]; keyId: string };

/** The first generation of mask keys, when the config names none. */
export const DEFAULT_MASK_KEY_ID = '0000000000000001';

export interface MeterveilConfig {
  /** Folder of keys, secrets and SQLite files, absolute. */
  dataDir: string;
  scheme: SchemeConfig;
  /**
   * publicKey: the key meters are provisioned with. publicKeys: every key whose reports the
   * aggregators accept, the current one and during a rotation the next (docs/keys.md).
   * privateKeys: the provider's key ring, one private key per key id it decrypts.
   */
  keys: { publicKey: string; publicKeys: string[]; privateKey: string; privateKeys: string[]; secrets: string };
  broker: {
    /**
     * Where every role connects: mqtts://host:port (TLS, the broker's certificate checked against
     * tls.ca), or mqtt://host:port on loopback only. The first of `urls`.
     */
    url: string;
    /**
     * The brokers of the tier, in order (config `urls`, or `url` alone): a party that loses its
     * broker connects to the next one (the nodes of a NATS cluster).
     */
    urls: string[];
    /** Whether `meterveil start` runs the embedded broker (aedes) at that address. */
    embedded: boolean;
    /**
     * A NATS cluster (host/broker/nats.ts): node i serves MQTT at urls[i] and meets the other
     * nodes at routes[i]; `provision` writes each node's config, `meterveil start` runs the nodes
     * when they are all on loopback. Null: a single broker.
     */
    cluster: { routes: { host: string; port: number }[] } | null;
  };
  slotSeconds: number;
  /**
   * How long after a slot's end reports are still accepted: the aggregator waits that long for
   * members that have not reported and closes the slot then (its watermark), or as soon as every
   * member has reported.
   */
  latenessSeconds: number;
  /**
   * The outage bound: how long after a slot's end an aggregator that was away (or cut off from the
   * broker) still takes its reports when it is back, if it had not closed the slot. At least
   * latenessSeconds; the acceptance horizon (acceptanceHorizonMs), beyond which nothing of a slot
   * is accepted and an aggregator's records of it may go.
   */
  outageSeconds: number;
  /** How far ahead of the receiver's clock a report's slot may start. */
  skewSeconds: number;
  /** Relative deviation between decrypted total and feeder reading that raises an alert. */
  tolerance: number;
  packing: PackingConfig;
  http: {
    host: string;
    port: number;
    /** HTTPS with tls.apiCert and tls.apiKey: required on any address but loopback. */
    tls: boolean;
    /** The readers' bearer tokens, as SHA-256 digests (host/provider/api-tokens.ts). */
    tokens: string;
  };
  /** Certificates (host/tls/files.ts): every party reads the CA; the broker and the API their own pair. */
  tls: TlsPaths;
  /**
   * Where `meterveil start` has its roles serve Prometheus metrics: the first port for the
   * embedded broker, the next ones for each custodian, aggregator and the feeders (the provider
   * serves /metrics on its API). Null: no metrics listeners but the provider's.
   */
  metrics: { host: string; port: number } | null;
  /** 'process': commits survive a crash of the process (WAL, synchronous=NORMAL); 'power': also a power loss (FULL). */
  durability: 'process' | 'power';
  provider: { decryption: DecryptionConfig };
  /** What each role may forget, and when (host/config/retention.ts). */
  retention: RetentionConfig;
  groups: GroupConfig[];
  /** Which aggregator process runs which groups (host/config/placement.ts); empty: one process per group. */
  aggregators: AggregatorHost[];
}

/** PEM files, absolute. */
export interface TlsPaths {
  ca: string;
  brokerCert: string;
  brokerKey: string;
  apiCert: string;
  apiKey: string;
}

const TOP_KEYS = [
  'scheme',
  'tls',
  'dataDir',
  'keys',
  'broker',
  'slotSeconds',
  'latenessSeconds',
  'outageSeconds',
  'skewSeconds',
  'tolerance',
  'packing',
  'http',
  'metrics',
  'durability',
  'provider',
  'retention',
  'groups',
  'aggregators',
];

function object(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('bad-config', `${what} must be an object`);
  return value as Record<string, unknown>;
}

function onlyKeys(obj: Record<string, unknown>, allowed: string[], what: string) {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail('bad-config', `${what}: unknown key "${key}"`);
  }
}

const refuse: Refuse = (field, explanation) => fail('bad-config', `${field}: ${explanation}`);

/**
 * The host's roles connect through MQTT.js and the embedded broker listens on TCP, with TLS or
 * (on loopback) without; the meters are provisioned with this same URL: no WebSocket.
 */
export const HOST_TRANSPORTS: BrokerTransports = { where: 'the host roles', schemes: ['mqtt', 'mqtts'] };

export const DEFAULT_BROKER_URL = 'mqtts://127.0.0.1:8883';

/** Where provisioning and `meterveil start` write the certificates, in the data folder. */
export const DEFAULT_TLS_FILES: TlsPaths = {
  ca: 'tls/ca.pem',
  brokerCert: 'tls/broker.pem',
  brokerKey: 'tls/broker-key.pem',
  apiCert: 'tls/api.pem',
  apiKey: 'tls/api-key.pem',
};

/** mqtt:// (no TLS) is for a broker on this machine only: anywhere else passwords and aggregates would cross the network in clear. */
export function refusePlainOffLoopback(address: BrokerAddress, field: string): void {
  if ((address.scheme === 'mqtt' || address.scheme === 'ws') && !isLoopbackHost(address.host))
    fail('plain-off-loopback', `${field}: ${address.scheme}:// to ${address.host} would cross the network unencrypted; use mqtts:// (TLS)`);
}

function integer(value: unknown, what: string, min: number, max: number): number {
  return integerIn(value, what, min, max, refuse);
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) fail('bad-config', `${what} must be a non-empty string`);
  return value;
}

function id(value: unknown, what: string): string {
  return checkId(value, what, refuse);
}

function parseGroup(value: unknown, index: number): GroupConfig {
  const g = object(value, `groups[${index}]`);
  onlyKeys(g, ['id', 'members', 'feeder', 'k'], `groups[${index}]`);
  const groupId = id(g.id, `groups[${index}].id`);
  if (!Array.isArray(g.members) || g.members.length === 0) fail('bad-config', `group ${groupId}: members must be a non-empty array`);
  const members = g.members.map((m, i) => id(m, `group ${groupId}: members[${i}]`));
  if (new Set(members).size !== members.length) fail('bad-config', `group ${groupId}: a meter is listed twice`);
  // k = 1 would publish single readings; 2 is the floor, a deployment chooses more.
  const k = integer(g.k, `group ${groupId}: k`, 2, members.length);
  return { id: groupId, members, feeder: id(g.feeder, `group ${groupId}: feeder`), k };
}

function parseDecryption(value: unknown, defaultPublicKey: string, inData: (p: string) => string): DecryptionConfig {
  const d = object(value ?? { mode: 'single' }, 'provider.decryption');
  if (d.mode === 'single') {
    onlyKeys(d, ['mode'], 'provider.decryption');
    return { mode: 'single' };
  }
  if (d.mode !== 'threshold') fail('bad-config', 'provider.decryption.mode must be "single" or "threshold"');
  onlyKeys(
    d,
    ['mode', 'publicKey', 'publicKeys', 'custodians', 'threshold', 'timeoutMs', 'retryMs', 'cosigners', 'allowUndetectableDifferencing'],
    'provider.decryption',
  );
  if (d.publicKey !== undefined && d.publicKeys !== undefined)
    fail('bad-config', 'provider.decryption: give publicKey (one key) or publicKeys (a key ring), not both');
  const custodians = integer(d.custodians, 'provider.decryption.custodians', 1, MAX_CUSTODIANS);
  const single = d.publicKey === undefined ? defaultPublicKey : inData(text(d.publicKey, 'provider.decryption.publicKey'));
  const publicKeys = keyFiles(d.publicKeys, 'provider.decryption.publicKeys', single, inData);
  const threshold = integer(d.threshold, 'provider.decryption.threshold', 1, custodians);
  if (d.allowUndetectableDifferencing !== undefined && typeof d.allowUndetectableDifferencing !== 'boolean')
    fail('bad-config', 'provider.decryption.allowUndetectableDifferencing must be true or false');
  const allowUndetectableDifferencing = d.allowUndetectableDifferencing === true;
  refuseDisjointQuorums(
    threshold,
    custodians,
    allowUndetectableDifferencing,
    'set provider.decryption.allowUndetectableDifferencing to true',
  );
  return {
    mode: 'threshold',
    publicKeys,
    publicKey: publicKeys.at(-1)!,
    custodians,
    threshold,
    allowUndetectableDifferencing,
    timeoutMs: integer(d.timeoutMs ?? 30_000, 'provider.decryption.timeoutMs', 100, 3_600_000),
    retryMs: integer(d.retryMs ?? 60_000, 'provider.decryption.retryMs', 100, 86_400_000),
    ...(d.cosigners === undefined ? {} : { cosigners: cosignerFiles(d.cosigners, custodians, inData) }),
  };
}

function cosignerFiles(value: unknown, custodians: number, inData: (p: string) => string): string[] {
  if (!Array.isArray(value) || value.length !== custodians)
    fail('bad-config', `provider.decryption.cosigners must list one signing-public file per custodian (${custodians})`);
  return value.map((p, i) => inData(text(p, `provider.decryption.cosigners[${i}]`)));
}

/** A list of key files: 1..MAX_RING_KEYS distinct paths; absent means the one default. */
function keyFiles(value: unknown, what: string, fallback: string, inData: (p: string) => string): string[] {
  if (value === undefined) return [fallback];
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RING_KEYS)
    fail('bad-config', `${what} must list 1..${MAX_RING_KEYS} key files`);
  const paths = value.map((p, i) => inData(text(p, `${what}[${i}]`)));
  if (new Set(paths).size !== paths.length) fail('bad-config', `${what} lists a file twice`);
  return paths;
}

/** Brokers one party is given: the nodes of a cluster, with room for a second site. */
export const MAX_BROKER_URLS = 16;

function brokerUrls(broker: Record<string, unknown>): string[] {
  if (broker.url !== undefined && broker.urls !== undefined) fail('bad-config', 'broker: give url (one broker) or urls (a tier), not both');
  const urls =
    broker.urls === undefined
      ? [broker.url === undefined ? DEFAULT_BROKER_URL : text(broker.url, 'broker.url')]
      : Array.isArray(broker.urls) && broker.urls.length > 0 && broker.urls.length <= MAX_BROKER_URLS
        ? broker.urls.map((u, i) => text(u, `broker.urls[${i}]`))
        : fail('bad-config', `broker.urls must list 1..${MAX_BROKER_URLS} broker URLs`);
  urls.forEach((url, i) => {
    const field = broker.urls === undefined ? 'broker.url' : `broker.urls[${i}]`;
    refusePlainOffLoopback(parseBrokerUrl(url, field, HOST_TRANSPORTS, refuse), field);
  });
  if (new Set(urls).size !== urls.length) fail('bad-config', 'broker.urls lists a broker twice');
  return urls;
}

/** `host:port`, host a name, an IPv4 address or [IPv6]. */
function hostPort(value: unknown, what: string): { host: string; port: number } {
  const m = typeof value === 'string' ? /^([^\s/:@[\]]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(value) : null;
  if (!m) return fail('bad-config', `${what} must look like host:port`);
  return { host: m[1], port: integer(Number(m[2]), `${what} port`, 1, 65_535) };
}

function parseCluster(value: unknown, urls: string[]): { routes: { host: string; port: number }[] } {
  const c = object(value, 'broker.cluster');
  onlyKeys(c, ['routes'], 'broker.cluster');
  if (!Array.isArray(c.routes) || c.routes.length !== urls.length)
    fail('bad-config', `broker.cluster.routes must list one host:port per broker URL (${urls.length}), node i's at [i]`);
  if (urls.length < 3) fail('bad-config', 'broker.cluster needs at least 3 nodes: its MQTT state is kept on 3 replicas');
  const routes = c.routes.map((r, i) => hostPort(r, `broker.cluster.routes[${i}]`));
  if (new Set(routes.map((r) => `${r.host}:${r.port}`)).size !== routes.length)
    fail('bad-config', 'broker.cluster.routes lists an address twice');
  return { routes };
}

/**
 * "paillier" (or absent), "masked", or {"name": "masked", "keyIds": [...]}. The masked scheme's
 * verifiable mode needs every custodian: each removes its own part of every mask, so t must be n.
 */
function parseScheme(value: unknown, decryption: DecryptionConfig): SchemeConfig {
  if (value === undefined || value === 'paillier') return { name: 'paillier' };
  const s = value === 'masked' ? { name: 'masked' } : object(value, 'scheme');
  onlyKeys(s, ['name', 'keyIds'], 'scheme');
  if (s.name !== 'masked') fail('bad-config', 'scheme must be "paillier", "masked" or {"name": "masked", "keyIds": [...]}');
  const raw = s.keyIds ?? [DEFAULT_MASK_KEY_ID];
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_RING_KEYS)
    fail('bad-config', `scheme.keyIds must list 1..${MAX_RING_KEYS} key ids`);
  const keyIds = raw.map((k, i) => {
    if (typeof k !== 'string' || !/^[0-9a-f]{16}$/.test(k)) fail('bad-config', `scheme.keyIds[${i}] must be 16 lowercase hex characters`);
    return k;
  });
  if (new Set(keyIds).size !== keyIds.length) fail('bad-config', 'scheme.keyIds lists a key id twice');
  if (decryption.mode === 'threshold') {
    if (decryption.threshold !== decryption.custodians)
      fail(
        'bad-config',
        `scheme masked: provider.decryption.threshold must equal custodians (${decryption.custodians}): each custodian removes its own part of every mask`,
      );
    if (decryption.cosigners)
      fail('bad-config', 'scheme masked: provider.decryption.cosigners endorse Paillier keys; a masked deployment has none');
  }
  return { name: 'masked', keyIds, keyId: keyIds.at(-1)! };
}

/** Keys in use at once: the current one, the next, and old ones whose slots are still decrypted. */
export const MAX_RING_KEYS = 4;

export function parseConfig(input: unknown, resolvePath: (p: string) => string): MeterveilConfig {
  const c = object(input, 'config');
  onlyKeys(c, TOP_KEYS, 'config');
  const dataDir = resolvePath(c.dataDir === undefined ? './data' : text(c.dataDir, 'dataDir'));
  const inData = (p: string) => resolvePath(p.startsWith('/') ? p : `${dataDir}/${p}`);

  const keys = object(c.keys ?? {}, 'keys');
  onlyKeys(keys, ['publicKey', 'publicKeys', 'privateKey', 'privateKeys', 'secrets'], 'keys');
  const broker = object(c.broker ?? {}, 'broker');
  onlyKeys(broker, ['url', 'urls', 'embedded', 'cluster'], 'broker');
  const urls = brokerUrls(broker);
  const cluster = broker.cluster === undefined ? null : parseCluster(broker.cluster, urls);
  const embedded = broker.embedded ?? cluster === null;
  if (typeof embedded !== 'boolean') fail('bad-config', 'broker.embedded must be true or false');
  if (embedded && urls.length > 1)
    fail('bad-config', 'broker.embedded runs one broker: give it one URL (broker.url), or set embedded to false for a tier of brokers');
  if (embedded && cluster) fail('bad-config', 'broker.embedded and broker.cluster exclude each other: the cluster is NATS');

  if (!Array.isArray(c.groups) || c.groups.length === 0) fail('bad-config', 'groups must be a non-empty array');
  const groups = c.groups.map(parseGroup);
  if (new Set(groups.map((g) => g.id)).size !== groups.length) fail('bad-config', 'two groups share an id');
  const largest = Math.max(...groups.map((g) => g.members.length));

  const slotSeconds = checkSlotSeconds(c.slotSeconds ?? 60, refuse);
  const packingRaw = object(c.packing ?? {}, 'packing');
  onlyKeys(packingRaw, ['readings', 'maxPowerWatts', 'maxGroupSize'], 'packing');
  const packing: PackingConfig = checkPacking(packingRaw, { readings: 1, maxPowerWatts: 23_000, maxGroupSize: largest }, refuse);
  if (packing.maxGroupSize < largest)
    fail('bad-config', `packing.maxGroupSize (${packing.maxGroupSize}) is below the largest group (${largest})`);
  if (!Number.isInteger(subSlotMs(slotSeconds, packing)))
    refuse('packing.readings', `must split the slot (slotSeconds * 1000 = ${slotSeconds * 1000} ms) into whole milliseconds`);

  const http = object(c.http ?? {}, 'http');
  onlyKeys(http, ['host', 'port', 'tls', 'tokens'], 'http');
  const httpHost = http.host === undefined ? '127.0.0.1' : text(http.host, 'http.host');
  const httpTls = http.tls ?? !isLoopbackHost(httpHost);
  if (typeof httpTls !== 'boolean') fail('bad-config', 'http.tls must be true or false');
  if (!httpTls && !isLoopbackHost(httpHost))
    fail('plain-off-loopback', `http.host ${httpHost} is not a loopback address: the API serves there over HTTPS only (http.tls)`);
  const tlsRaw = object(c.tls ?? {}, 'tls');
  onlyKeys(tlsRaw, Object.keys(DEFAULT_TLS_FILES), 'tls');
  const metrics = c.metrics === undefined || c.metrics === null ? null : object(c.metrics, 'metrics');
  if (metrics) onlyKeys(metrics, ['host', 'port'], 'metrics');

  const latenessSeconds = integer(c.latenessSeconds ?? defaultLatenessSeconds(slotSeconds), 'latenessSeconds', 0, 7 * 86_400);
  const outageSeconds = integer(c.outageSeconds ?? Math.max(DEFAULT_OUTAGE_SECONDS, latenessSeconds), 'outageSeconds', 0, 7 * 86_400);
  // A bound below the lateness would refuse reports the watermark still waits for.
  if (outageSeconds < latenessSeconds) refuse('outageSeconds', `must be at least latenessSeconds (${latenessSeconds})`);
  const tolerance = c.tolerance ?? 0.05;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance < 1)) fail('bad-config', 'tolerance must be a number in [0, 1)');
  const durability = c.durability ?? 'process';
  if (durability !== 'process' && durability !== 'power') fail('bad-config', 'durability must be "process" or "power"');

  const meters = new Set(groups.flatMap((g) => g.members));
  for (const m of meters) {
    if (isServiceName(m))
      fail(
        'bad-config',
        `meter id "${m}" is reserved for a service ("provider", "aggregator.*", "aggregators.*", "feeder.*", "custodian.*")`,
      );
  }
  for (const g of groups) {
    if (meters.has(g.feeder)) fail('bad-config', `group ${g.id}: feeder ${g.feeder} is also a customer meter`);
  }

  const publicKey = inData(keys.publicKey === undefined ? 'keys/public.json' : text(keys.publicKey, 'keys.publicKey'));
  const privateKey = inData(keys.privateKey === undefined ? 'keys/private.json' : text(keys.privateKey, 'keys.privateKey'));
  const provider = object(c.provider ?? {}, 'provider');
  onlyKeys(provider, ['decryption'], 'provider');

  const skewSeconds = integer(c.skewSeconds ?? 5, 'skewSeconds', 0, 3_600);
  const decryption = parseDecryption(provider.decryption, publicKey, inData);
  const scheme = parseScheme(c.scheme, decryption);
  if (scheme.name === 'masked') maskedPackingFor(slotSeconds, packing);
  return {
    dataDir,
    scheme,
    keys: {
      publicKey,
      publicKeys: keyFiles(keys.publicKeys, 'keys.publicKeys', publicKey, inData),
      privateKey,
      privateKeys: keyFiles(keys.privateKeys, 'keys.privateKeys', privateKey, inData),
      secrets: inData(keys.secrets === undefined ? 'keys/secrets.json' : text(keys.secrets, 'keys.secrets')),
    },
    broker: { url: urls[0], urls, embedded, cluster },
    slotSeconds,
    latenessSeconds,
    outageSeconds,
    skewSeconds,
    tolerance,
    packing,
    http: {
      host: httpHost,
      port: integer(http.port ?? 8080, 'http.port', 0, 65_535),
      tls: httpTls,
      tokens: inData(http.tokens === undefined ? 'keys/api-tokens.json' : text(http.tokens, 'http.tokens')),
    },
    metrics: metrics && {
      host: metrics.host === undefined ? '127.0.0.1' : text(metrics.host, 'metrics.host'),
      port: integer(metrics.port, 'metrics.port', 1, 65_535),
    },
    tls: Object.fromEntries(
      Object.entries(DEFAULT_TLS_FILES).map(([k, d]) => [k, inData(tlsRaw[k] === undefined ? d : text(tlsRaw[k], `tls.${k}`))]),
    ) as unknown as TlsPaths,
    durability,
    provider: { decryption },
    retention: parseRetention(c.retention, { slotSeconds, latenessSeconds, outageSeconds, skewSeconds }, refuse),
    groups,
    aggregators: parsePlacement(
      c.aggregators,
      groups.map((g) => g.id),
      refuse,
    ),
  };
}

/** Ten minutes: an aggregator's restart, a broker's restart or upgrade, a short network loss. */
export const DEFAULT_OUTAGE_SECONDS = 600;

/**
 * Half a slot for reports sent late (a slow encryption, a reboot), plus one resend by a meter with
 * the default acknowledgement timeout (a report lost on the way): waiting costs little, since a
 * slot that every member reported closes at once, and a slot short of 1..k-1 members is lost.
 */
export function defaultLatenessSeconds(slotSeconds: number): number {
  return Math.max(2, Math.floor(slotSeconds / 2)) + DEFAULT_ACK_TIMEOUT_SECONDS;
}

export function findGroup(config: MeterveilConfig, groupId: string): GroupConfig {
  return config.groups.find((g) => g.id === groupId) ?? fail('unknown-group', `no group "${groupId}" in the config`);
}

export function allMeters(config: MeterveilConfig): string[] {
  return [...new Set(config.groups.flatMap((g) => g.members))].sort();
}

export function brokerAddress(config: MeterveilConfig): BrokerAddress {
  return parseBrokerUrl(config.broker.url, 'broker.url', HOST_TRANSPORTS, refuse);
}

/** A party's broker field: `url` for one broker, `urls` for a tier (as the config takes them). */
export function brokerUrlFields(urls: string[]): { url: string } | { urls: string[] } {
  return urls.length === 1 ? { url: urls[0] } : { urls };
}

/** The URLs of a party's broker field. */
export function urlsOfBrokerField(broker: { url: string } | { urls: string[] }): string[] {
  return 'urls' in broker ? broker.urls : [broker.url];
}
