/**
 * Builds a throw-away deployment for a pipeline test or the pipeline benchmark: a data folder with
 * a real 2048-bit key pair (generated once per process) or a real threshold key set, secrets, a
 * config file, and a real broker (the embedded aedes or a mosquitto process started on a free
 * loopback port with generated password and ACL files).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deploymentAcl } from '../../host/broker/deployment-acl.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../host/broker/embedded.ts';
import type { Acl } from '../../host/broker/acl.ts';
import { sessionQueueBound, writeMosquittoFiles } from '../../host/broker/mosquitto.ts';
import { brokerSessionsFile } from '../../host/broker/run.ts';
import type { RunningChildBroker } from '../../host/broker/child-broker.ts';
import { writeNatsConfigs } from '../../host/broker/nats-files.ts';
import { runNatsNode } from '../../host/broker/run-nats.ts';
import { fail } from '../../firmware/errors.ts';
import { natsReady } from '../../host/mqtt/brokers-ready.ts';
import { parseConfig, type MeterveilConfig } from '../../host/config/schema.ts';
import { brokerUsers, ensureSecrets, type Secrets } from '../../host/config/secrets.ts';
import { generateKeyPair, type KeyPair } from '../../host/paillier/keygen.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import type { ThresholdKeySet } from '../../host/threshold/dealer.ts';
import { writeThresholdKeySet } from '../../host/threshold/key-files.ts';
import { nodeMeterOf, type NodeMeter, type NodeMeterOptions } from '../../host/simulate/node-meter.ts';
import { apiTokensFile } from '../../host/provider/api-tokens.ts';
import { sharedTls, writeTlsFixture } from './tls-fixture.ts';

/** The bearer token of the one API reader of a test deployment (test/pipeline/support/probe.ts sends it). */
export const TEST_API_TOKEN = 'test-reader-token-0000000000000000000000000';

let keyPair: Promise<KeyPair> | undefined;
export const sharedKeyPair = () => (keyPair ??= generateKeyPair(2048));

export type BrokerKind = 'embedded' | 'mosquitto' | 'nats';

export interface TestDeployment {
  dir: string;
  configPath: string;
  config: MeterveilConfig;
  /** The meters' key: the pair's, or the threshold key's. */
  publicKey: PaillierPublicKey;
  secrets: Secrets;
  refusals: () => Map<string, number> | undefined;
  /** Stops the broker, waits downMs, and starts it again on the same port (mosquitto with its files and persistence, aedes with empty memory, every NATS node with its JetStream files). */
  restartBroker(downMs: number): Promise<void>;
  /** NATS: stops node i (0-based) at once (SIGKILL: a machine that goes away); `startNode` brings it back with its files. */
  killNode(index: number): Promise<void>;
  /** NATS: what the nodes wrote on stderr, prefixed by the command. */
  brokerLog: string[];
  startNode(index: number): Promise<void>;
  /** Gives the running broker the users and permissions of another config of this deployment (mosquitto: rewritten files and SIGHUP; not NATS). */
  reloadBroker(config: MeterveilConfig): Promise<void>;
  meter(meterId: string, groups: string[], options?: Partial<NodeMeterOptions>): Promise<NodeMeter>;
  cleanup(): Promise<void>;
}

/** Listens on the loopback port (0: one the system picks) and lets it go; the port, or undefined if it was taken. */
function tryPort(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const bound = (s.address() as { port: number }).port;
      s.close(() => resolve(bound));
    });
  });
}

export async function freePort(): Promise<number> {
  const port = await tryPort(0);
  if (port === undefined) throw new Error('no free loopback port');
  return port;
}

/**
 * The first of `n` consecutive free loopback ports (a role per port, as `start` gives metrics
 * ports), below Linux's ephemeral range (32768 on): the connections of tests running meanwhile
 * take their local ports from there, and would take one of the range.
 */
export async function freePortRange(n: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * (12_000 - n));
    const ports = await Promise.all(Array.from({ length: n }, (_, i) => tryPort(first + i)));
    if (ports.every((p) => p !== undefined)) return first;
  }
  throw new Error(`no ${n} consecutive free loopback ports`);
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('mosquitto did not start listening');
}

export async function deploy(options: {
  groups: { id: string; members: string[]; feeder: string; k: number }[];
  broker?: BrokerKind;
  extra?: Record<string, unknown>;
  /** Threshold mode: the key set written to data/keys (public.json, share-<i>.json) and the request timings. */
  threshold?: { set: ThresholdKeySet; timeoutMs: number; retryMs: number };
  /** Single-key mode with this pair instead of the shared one (e.g. a version-1 key). */
  keyPair?: KeyPair;
  /**
   * The masked scheme: the provider holds the mask keys, or with `custodians` n the deployment is
   * verifiable, each custodian holding its own (n of n). No Paillier key is written.
   */
  masked?: { custodians?: number; timeoutMs?: number; retryMs?: number };
  /** The broker on mqtts:// with the shared test certificates (tools/pipeline/tls-fixture.ts); plain loopback otherwise. */
  tls?: boolean;
  /** mosquitto only: its queue per offline session (default 1000), and whether sessions survive its restart. */
  mosquitto?: { maxQueuedMessages?: number; persistence?: boolean };
}): Promise<TestDeployment> {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-pipeline-'));
  let publicKey: PaillierPublicKey;
  let decryption: Record<string, unknown> = { mode: 'single' };
  let aggregation: string | undefined;
  if (options.masked) {
    aggregation = 'masked';
    // Unused by masked meters; the deployment's type keeps a Paillier key for the others.
    publicKey = (await sharedKeyPair()).publicKey;
    const { custodians, timeoutMs = 10_000, retryMs = 2_000 } = options.masked;
    if (custodians) decryption = { mode: 'threshold', custodians, threshold: custodians, timeoutMs, retryMs };
  } else if (options.threshold) {
    const { set, timeoutMs, retryMs } = options.threshold;
    writeThresholdKeySet(join(dir, 'data/keys'), set);
    publicKey = set.publicKey.paillier;
    decryption = { mode: 'threshold', custodians: set.publicKey.custodians, threshold: set.publicKey.threshold, timeoutMs, retryMs };
  } else {
    const pair = options.keyPair ?? (await sharedKeyPair());
    writeKeyPair(join(dir, 'data/keys'), pair);
    publicKey = pair.publicKey;
  }
  const port = await freePort();
  const scheme = options.tls ? 'mqtts' : 'mqtt';
  const nats = options.broker === 'nats' ? [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()] : [];
  const raw = {
    ...(aggregation ? { scheme: aggregation } : {}),
    dataDir: './data',
    broker:
      options.broker === 'nats'
        ? {
            urls: [port, nats[0], nats[1]].map((p) => `${scheme}://127.0.0.1:${p}`),
            embedded: false,
            cluster: { routes: nats.slice(2).map((p) => `127.0.0.1:${p}`) },
          }
        : { url: `${scheme}://127.0.0.1:${port}`, embedded: options.broker !== 'mosquitto' },
    slotSeconds: 2,
    latenessSeconds: 1,
    skewSeconds: 2,
    tolerance: 0.05,
    packing: { readings: 1, maxPowerWatts: 100_000 },
    http: { host: '127.0.0.1', port: 0 },
    provider: { decryption },
    groups: options.groups,
    ...options.extra,
  };
  const configPath = join(dir, 'meterveil.json');
  writeFileSync(configPath, JSON.stringify(raw, null, 2));
  const config = parseConfig(raw, (p) => resolve(dir, p));
  const secrets = ensureSecrets(config);
  writeFileSync(config.http.tokens, JSON.stringify(apiTokensFile(new Map([['tests', TEST_API_TOKEN]]))), { mode: 0o600 });
  const tls = options.tls ? await sharedTls() : undefined;
  if (tls) writeTlsFixture(config.tls, tls);
  const users = brokerUsers(secrets);
  const acl = deploymentAcl(config);

  let refusals: () => Map<string, number> | undefined = () => undefined;
  const brokerLog: string[] = [];
  let nodeControl: { start(): Promise<void>; kill(): Promise<void>; stop(): Promise<void> }[] = [];
  const node = (index: number) => nodeControl[index] ?? fail('bad-argument', `no NATS node ${index} in this deployment`);
  /** Starts the broker; resolves to its stop. */
  let startBroker: () => Promise<() => Promise<void>>;
  let reload: (access: { users: Map<string, string>; acl: Acl }) => Promise<void>;
  if (options.broker === 'mosquitto') {
    const writeFiles = (access: { users: Map<string, string>; acl: Acl }) =>
      writeMosquittoFiles(join(dir, 'mosquitto'), {
        host: '127.0.0.1',
        port,
        ...access,
        tls: tls && { ca: tls.ca.cert, ...tls.broker },
        maxQueuedMessages: options.mosquitto?.maxQueuedMessages,
        persistenceDir: options.mosquitto?.persistence ? join(dir, 'mosquitto/persistence') : undefined,
      });
    const files = writeFiles({ users, acl });
    let running: ChildProcess | undefined;
    reload = async (access) => {
      writeFiles(access);
      // mosquitto reads its password and ACL files again on SIGHUP.
      running?.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 200));
    };
    startBroker = async () => {
      const child = spawn('mosquitto', ['-c', files.configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      running = child;
      child.stderr!.resume();
      await waitForPort(port, child);
      return async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        }
      };
    };
  } else if (options.broker === 'nats') {
    reload = async () => fail('bad-argument', 'reloadBroker: the NATS nodes of a test deployment take their table at start only');
    const files = writeNatsConfigs(config, secrets, join(dir, 'nats'));
    nodeControl = files.map(({ path }) => {
      let node: RunningChildBroker | undefined;
      return {
        start: async () => {
          node = await runNatsNode(path, (line) => brokerLog.push(line));
        },
        kill: async () => node?.kill(),
        stop: async () => node?.stop(),
      };
    });
    startBroker = async () => {
      await Promise.all(nodeControl.map((n) => n.start()));
      await natsReady(config);
      return async () => {
        await Promise.all(nodeControl.map((n) => n.stop()));
      };
    };
  } else {
    let current = { users, acl };
    let broker: EmbeddedBroker | undefined;
    reload = async (access) => {
      current = access;
      broker?.reload(access);
    };
    startBroker = async () => {
      const started = await startEmbeddedBroker({
        host: '127.0.0.1',
        port,
        ...current,
        tls: tls?.broker,
        sessionsFile: brokerSessionsFile(config),
        maxQueuedMessages: sessionQueueBound(config),
      });
      broker = started;
      refusals = () => started.refusals;
      return () => started.close();
    };
  }
  let close = await startBroker();
  const restartBroker = async (downMs: number) => {
    await close();
    await new Promise((r) => setTimeout(r, downMs));
    close = await startBroker();
  };

  const meters: NodeMeter[] = [];
  return {
    dir,
    configPath,
    config,
    publicKey,
    secrets,
    get refusals() {
      return refusals;
    },
    restartBroker,
    brokerLog,
    killNode: (index) => node(index).kill(),
    startNode: (index) => node(index).start(),
    reloadBroker: (next) => reload({ users: brokerUsers(ensureSecrets(next)), acl: deploymentAcl(next) }),
    async meter(meterId, groups, extra = {}) {
      const m = nodeMeterOf({ config, secrets, publicKey }, meterId, groups, extra);
      meters.push(m);
      await m.connect();
      return m;
    },
    async cleanup() {
      await Promise.all(meters.map((m) => m.close()));
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { nodeMeterOf };

export const ids = (prefix: string, n: number, from = 1) => Array.from({ length: n }, (_, i) => `${prefix}${i + from}`);
