/** Starts a custodian: its shares (one per key of the ring), its own SQLite record, and its broker connection. */
import { join } from 'node:path';
import { connected, connectRole, endClient } from '../mqtt/client.ts';
import { brokerConnection } from '../tls/files.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { fail } from '../../firmware/errors.ts';
import { meterCustodianKey, meterMaskKey, readSecrets, servicePassword } from '../config/secrets.ts';
import { maskedParamsOfConfig } from '../scheme/of-config.ts';
import { maskHolding, shareHolding, type Holding } from './holding.ts';
import { EVIDENCE_TOPIC_FILTER } from '../protocol/topics.ts';
import { ProofNoncePool } from '../threshold/nonce-pool.ts';
import type { KeyShare } from '../threshold/threshold-key.ts';
import { Custodian, type CustodianOptions } from './custodian.ts';
import { encodeResponse } from '../decryption/messages.ts';
import { checkedShares } from './shares.ts';
import { CustodianStore } from './store.ts';
import { custodianMetrics } from './metrics.ts';
import type { Registry } from '../metrics/registry.ts';
import { custodianCollection } from './retention.ts';
import { startCollection, type Collector } from '../store/collector.ts';
import { watchCollection } from '../store/collection-metrics.ts';
import { custodianUser } from '../config/identities.ts';
import { custodianPartialTopic, DECRYPTION_REQUEST_TOPIC } from '../decryption/topics.ts';

export interface RunningCustodian {
  custodian: Custodian;
  metrics: Registry;
  /** Background collection of the record (host/custodian/retention.ts). */
  collector: Collector;
  stop(): Promise<void>;
}

/** Nonces kept ready: a burst of requests (one per group at a slot's close) takes several at once. */
const NONCE_POOL_CAPACITY = 16;
/** One nonce (an exponentiation of about 15 ms at 2048 bits) per tick while a pool is not full. */
const NONCE_REFILL_MS = 100;

export function custodianStorePath(config: MeterveilConfig, index: number): string {
  return join(config.dataDir, `custodian-${index}.sqlite`);
}

type RunOptions = Pick<CustodianOptions, 'waitForAggregateMs' | 'now' | 'log'> & {
  password?: string;
  storePath?: string;
  /** The meters' keys of this custodian; by default from the secrets file. */
  meterKey?: CustodianOptions['meterKey'];
};

export async function runCustodian(
  config: MeterveilConfig,
  shares: KeyShare | readonly KeyShare[],
  options: RunOptions = {},
): Promise<RunningCustodian> {
  const held = [...checkedShares(Array.isArray(shares) ? shares : [shares as KeyShare]).values()];
  const nonces = new Map(held.map((share) => [share.publicKey.keyId, new ProofNoncePool(share.publicKey, NONCE_POOL_CAPACITY)]));
  const refill = setInterval(() => [...nonces.values()].some((pool) => pool.refillOne()), NONCE_REFILL_MS);
  refill.unref();
  try {
    return await runHolding(config, shareHolding(held, nonces), options, () => clearInterval(refill));
  } catch (e) {
    clearInterval(refill);
    throw e;
  }
}

/** Custodian `index` of a verifiable masked deployment: its mask key of every meter, per key id of the config. */
export async function runMaskedCustodian(config: MeterveilConfig, index: number, options: RunOptions = {}): Promise<RunningCustodian> {
  const { scheme } = config;
  if (scheme.name !== 'masked') fail('bad-config', 'a masked custodian needs scheme "masked" in the config');
  const secrets = readSecrets(config.keys.secrets);
  const keys = new Map<string, Uint8Array>();
  const maskKey = (meterId: string, keyId: string) => {
    const at = `${meterId}/${keyId}`;
    if (!keys.has(at) && secrets.meters[meterId]) keys.set(at, meterMaskKey(secrets, meterId, keyId, index));
    return keys.get(at);
  };
  return runHolding(config, maskHolding(index, scheme.keyIds, maskedParamsOfConfig(config), maskKey), options, () => {});
}

async function runHolding(config: MeterveilConfig, holding: Holding, options: RunOptions, onStop: () => void): Promise<RunningCustodian> {
  const { index } = holding;
  const user = custodianUser(index);
  const secrets = options.password && options.meterKey ? undefined : readSecrets(config.keys.secrets);
  const password = options.password ?? servicePassword(secrets!, user);
  // Derived (or read) once per meter: every report of every aggregate is checked with it.
  const meterKeys = new Map<string, Uint8Array>();
  const fromSecrets = (meterId: string) => {
    if (!meterKeys.has(meterId) && secrets?.meters[meterId]) meterKeys.set(meterId, meterCustodianKey(secrets, meterId, index));
    return meterKeys.get(meterId);
  };
  const meterKey = options.meterKey ?? fromSecrets;
  // A custodian's record guards privacy: every commit survives a power loss.
  const store = new CustodianStore(options.storePath ?? custodianStorePath(config, index), { keyIds: [...holding.keyIds], index }, 'power');
  const custodian = new Custodian({ config, shares: [], holding, store, meterKey, ...options });
  const collector = startCollection(store.db, custodianCollection(store.db, config), config.retention, {
    now: options.now,
    log: options.log,
  });
  const client = connectRole({ ...brokerConnection(config), username: user, password });
  const metrics = custodianMetrics(index, custodian);
  watchCollection(metrics.registry, collector, store.db);
  const outbound = custodianPartialTopic(index);
  client.on('message', (topic, payload) => {
    if (topic === DECRYPTION_REQUEST_TOPIC) {
      const started = performance.now();
      void custodian
        .handleRequest(payload)
        .then((response) => {
          if (!response) return;
          metrics.answered(response.status, (performance.now() - started) / 1000);
          client.publish(outbound, Buffer.from(encodeResponse(response)), { qos: 1 });
        })
        .catch((e: Error) => options.log?.error({ reason: 'internal-error' }, `custodian ${index}: ${e.message}`));
    } else {
      custodian.noteEvidence(topic, payload);
    }
  });
  try {
    await connected(client);
    await client.subscribeAsync([EVIDENCE_TOPIC_FILTER, DECRYPTION_REQUEST_TOPIC], { qos: 1 });
  } catch (e) {
    onStop();
    await collector.stop();
    client.end(true);
    store.close();
    throw e;
  }
  return {
    custodian,
    metrics: metrics.registry,
    collector,
    async stop() {
      onStop();
      await collector.stop();
      await endClient(client);
      store.close();
    },
  };
}
