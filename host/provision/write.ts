/**
 * Writes a provisioning plan into a fresh directory; every file holding a secret is mode 0600,
 * every directory 0700. Layout:
 *   secrets.json                          all secrets (for `meterveil start`, all roles in one process)
 *   meters/<id>/config.json               the firmware configuration (JSON bundle; simulator input)
 *   meters/<id>/mcconfig.args             the same for mcconfig, one argument per line (with Wi-Fi for an ESP32)
 *   meters/<id>/preferences.json          the same as preference entries to write on the device
 *   meters/<id>/device.json               meters built for a board: the board and the manifest to build
 *   meters/<id>/modpreferences.json       meters built for lin: the simulator's preference file
 *   aggregators/<group>/config.json       the deployment config, dataDir ./data, key lists rewritten
 *   aggregators/<group>/data/keys/        public.json, ring/ (keys.publicKeys), secrets.json (its members' MAC keys only)
 *   aggregator-hosts/<host>/...           likewise for each aggregator host of config `aggregators` (its groups' members)
 *   provider/config.json, provider/data/keys/   likewise with its ring (host/provision/key-lists.ts), its broker password only
 *   custodians/<i>/config.json, custodians/<i>/data/keys/   threshold mode only: likewise, the threshold ring
 *   provider/data/tls/api.pem, api-key.pem   the API's certificate and key (the provider's alone)
 *   provider/data/keys/api-tokens.json    the SHA-256 digests of the readers' API tokens
 *   readers/<name>.token                  each API reader's bearer token (the dashboard, scripts, Prometheus)
 *   <role>/data/tls/ca.pem                every role's copy of the deployment CA's certificate
 *   ca/ca.pem, ca/ca-key.pem              the CA and its key, for the operator to issue the next
 *                                         certificates with (docs/security.md); no server needs the key
 *   feeders/<id>/credentials.json         the feeder meter's broker login (feeders/<id>/ca.pem beside it)
 *   broker/users.json                     scrypt hashes of every password
 *   broker/passwords, broker/acl          the same for mosquitto (password_file, acl_file)
 *   broker/tls/ca.pem, broker.pem, broker-key.pem   the broker's certificate chain and key (the broker's alone)
 *   broker/mosquitto.conf                 mosquitto's config for them, a TLS listener for each mqtts://
 *                                         port, persistence in broker/persistence/
 *                                         (`meterveil broker --mosquitto DIR/broker` runs it)
 *   broker/nats/<node>.conf               with broker.cluster: each NATS node's config (bcrypt hashes,
 *                                         the route secret, the TLS files of broker/tls/, JetStream in
 *                                         broker/nats/<node>/jetstream; `meterveil broker --nats FILE`)
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import {
  mosquittoAclText,
  mosquittoConf,
  queuedMessagesBound,
  type MosquittoListener,
  type MosquittoTlsFiles,
} from '../broker/mosquitto.ts';
import { isLoopbackHost } from '../net/loopback.ts';
import { mosquittoPasswordLine, scryptPasswordHash } from './credentials.ts';
import { linPreferenceFile, mcconfigArguments, preferenceEntries } from './device-forms.ts';
import { platformOf } from './devices.ts';
import type { RoleKeyLists } from './key-lists.ts';
import type { ProvisionPlan } from './plan.ts';
import type { ProvisionCertificates } from './certificates.ts';
import { apiTokensFile } from '../provider/api-tokens.ts';
import { DEFAULT_TLS_FILES, urlsOfBrokerField } from '../config/schema.ts';

export const BROKER_USERS_SCHEME = 'meterveil-broker-users';

/**
 * mosquitto's listeners for the URLs the parties were given: a port only loopback clients use is
 * bound to loopback; one that a meter reaches over the network is bound on every interface. An
 * mqtts:// port gets TLS with `tls`; an mqtt:// port off loopback is refused (mosquittoConf).
 */
export function mosquittoListeners(urls: string[], tls?: MosquittoTlsFiles): MosquittoListener[] {
  const byPort = new Map<number, { hosts: Set<string>; secure: boolean }>();
  for (const url of urls) {
    const { hostname, port, protocol } = new URL(url);
    const secure = protocol === 'mqtts:';
    const p = port === '' ? (secure ? 8883 : 1883) : Number(port);
    const entry = byPort.get(p) ?? { hosts: new Set(), secure };
    if (entry.secure !== secure) fail('bad-config', `port ${p} is given both with and without TLS`);
    byPort.set(p, { hosts: entry.hosts.add(hostname), secure });
  }
  return [...byPort].map(([port, { hosts, secure }]) => {
    const [only] = hosts;
    const bound = hosts.size === 1 && isLoopbackHost(only) ? { port, host: only } : { port };
    return secure ? { ...bound, tls } : bound;
  });
}

function writeFile(path: string, body: string | object, mode = 0o600): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body, null, 2) + '\n', { flag: 'wx', mode });
  return path;
}

type Role = 'aggregator' | 'provider' | 'custodian';

/**
 * The deployment config for one role: the operator's config with its own data folder, so that keys
 * and secrets sit at their default places (data/keys/public.json, data/keys/secrets.json), and the
 * key lists the role reads pointing at the copies in data/keys/ring/.
 */
function roleConfig(rawConfig: Record<string, unknown>, role: Role, lists: RoleKeyLists): object {
  const { dataDir: _dataDir, keys: _keys, provider, ...rest } = rawConfig;
  const keys =
    role === 'custodian'
      ? {}
      : { publicKeys: lists.publicKeys, ...(role === 'provider' && lists.privateKeys ? { privateKeys: lists.privateKeys } : {}) };
  const decryption = (provider as { decryption?: Record<string, unknown> } | undefined)?.decryption;
  const { publicKey: _publicKey, publicKeys: _publicKeys, ...settings } = decryption ?? {};
  const rewritten = lists.thresholdKeys
    ? {
        provider: {
          decryption: { ...settings, publicKeys: lists.thresholdKeys, ...(lists.cosigners ? { cosigners: lists.cosigners } : {}) },
        },
      }
    : provider === undefined
      ? {}
      : { provider };
  return { dataDir: './data', keys, ...rest, ...rewritten };
}

function keyFilesFor(role: Role, lists: RoleKeyLists) {
  const wanted = new Set(
    role === 'aggregator'
      ? [...lists.publicKeys, ...(lists.cosigners ?? [])]
      : role === 'custodian'
        ? [...(lists.thresholdKeys ?? []), ...(lists.cosigners ?? [])]
        : [...lists.publicKeys, ...(lists.privateKeys ?? []), ...(lists.thresholdKeys ?? []), ...(lists.cosigners ?? [])],
  );
  return lists.files.filter((f) => wanted.has(f.path));
}

/** publicJson: the public key file as given (a threshold key keeps its verification keys). */
export function writeProvisioning(
  outDir: string,
  plan: ProvisionPlan,
  rawConfig: Record<string, unknown>,
  publicJson: object,
  lists: RoleKeyLists,
  certificates: ProvisionCertificates,
  readers: ReadonlyMap<string, string>,
  /** A NATS cluster's node configs by node name (host/broker/nats-files.ts), for broker/nats/. */
  natsConfs?: ReadonlyMap<string, string>,
): string[] {
  if (existsSync(outDir) && readdirSync(outDir).length > 0)
    fail('output-exists', `${outDir} is not empty; provisioning never overwrites secrets`);
  const written: string[] = [];
  const file = (path: string, body: string | object, mode?: number) => written.push(writeFile(join(outDir, path), body, mode));
  const role = (dir: string, kind: Role, secrets: object) => {
    file(`${dir}/config.json`, roleConfig(rawConfig, kind, lists), 0o644);
    file(`${dir}/data/keys/public.json`, publicJson, 0o644);
    for (const key of keyFilesFor(kind, lists)) file(`${dir}/data/${key.path}`, key.text, key.secret ? 0o600 : 0o644);
    file(`${dir}/data/keys/secrets.json`, secrets);
    file(`${dir}/data/${DEFAULT_TLS_FILES.ca}`, certificates.ca.cert, 0o644);
  };

  file('secrets.json', plan.allInOne);
  for (const meter of plan.meters) {
    const device = plan.devices.get(meter.meterId);
    const dir = `meters/${meter.meterId}`;
    file(`${dir}/config.json`, meter);
    file(`${dir}/mcconfig.args`, mcconfigArguments(meter, device?.wifi).join('\n') + '\n');
    file(`${dir}/preferences.json`, preferenceEntries(meter));
    if (device) {
      const platform = platformOf(device.board);
      file(`${dir}/device.json`, { board: device.board, platform, manifest: `manifests/${platform}` }, 0o644);
      if (platform === 'lin') file(`${dir}/modpreferences.json`, linPreferenceFile(meter));
    }
  }
  for (const [groupId, secrets] of plan.aggregators) role(`aggregators/${groupId}`, 'aggregator', secrets);
  for (const [host, secrets] of plan.aggregatorHosts) role(`aggregator-hosts/${host}`, 'aggregator', secrets);
  role('provider', 'provider', plan.provider);
  file(`provider/data/${DEFAULT_TLS_FILES.apiCert}`, certificates.api.cert, 0o644);
  file(`provider/data/${DEFAULT_TLS_FILES.apiKey}`, certificates.api.key);
  file('provider/data/keys/api-tokens.json', apiTokensFile(readers));
  for (const [name, token] of readers) file(`readers/${name}.token`, token + '\n');
  file('ca/ca.pem', certificates.ca.cert, 0o644);
  file('ca/ca-key.pem', certificates.ca.key);
  for (const [index, secrets] of plan.custodians) role(`custodians/${index}`, 'custodian', secrets);
  for (const [feederId, credentials] of plan.feeders) {
    file(`feeders/${feederId}/credentials.json`, credentials);
    file(`feeders/${feederId}/ca.pem`, certificates.ca.cert, 0o644);
  }

  const users = [...plan.brokerUsers].sort(([a], [b]) => a.localeCompare(b));
  file('broker/users.json', {
    scheme: BROKER_USERS_SCHEME,
    version: 1,
    users: Object.fromEntries(users.map(([u, p]) => [u, scryptPasswordHash(p)])),
  });
  file('broker/passwords', users.map(([u, p]) => mosquittoPasswordLine(u, p)).join('\n') + '\n');
  file('broker/acl', mosquittoAclText(plan.acl));
  const brokerDir = resolve(outDir, 'broker');
  file('broker/tls/ca.pem', certificates.ca.cert, 0o644);
  file('broker/tls/broker.pem', certificates.broker.cert, 0o644);
  file('broker/tls/broker-key.pem', certificates.broker.key);
  const brokerTls = {
    cafile: join(brokerDir, 'tls/ca.pem'),
    certfile: join(brokerDir, 'tls/broker.pem'),
    keyfile: join(brokerDir, 'tls/broker-key.pem'),
  };
  // One session per aggregator, a group's or a host's: the largest queues the most.
  const largestGroup = Math.max(
    ...[...plan.aggregators.values(), ...plan.aggregatorHosts.values()].map((a) => Object.keys(a.meters).length),
  );
  file(
    'broker/mosquitto.conf',
    mosquittoConf({
      listeners: mosquittoListeners(
        [...plan.meters.flatMap((m) => urlsOfBrokerField(m.broker)), ...[...plan.feeders.values()].map((f) => f.url)],
        brokerTls,
      ),
      passwordPath: join(brokerDir, 'passwords'),
      aclPath: join(brokerDir, 'acl'),
      persistenceDir: join(brokerDir, 'persistence'),
      maxQueuedMessages: queuedMessagesBound(
        { largestSessionMeters: largestGroup, groups: plan.aggregators.size },
        plan.meters[0].slotSeconds,
        plan.outageSeconds,
      ),
      sessionExpirySeconds: plan.sessionExpirySeconds,
    }),
    0o644,
  );
  for (const [name, text] of natsConfs ?? []) file(`broker/nats/${name}.conf`, text);
  // Others may pass through the folder (every party's own folder in it stays 0700), so that
  // mosquitto, which drops root for its own user, reaches broker/ (host/broker/run-mosquitto.ts).
  chmodSync(outDir, 0o711);
  return written;
}
