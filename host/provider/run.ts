/**
 * Starts the provider from the config: its key (the private key, or in threshold mode the
 * threshold public key and a client that asks the custodians), store, broker connection, HTTP API.
 */
import { join } from 'node:path';
import { connected, connectRole, endClient } from '../mqtt/client.ts';
import { PROVIDER_USER } from '../config/identities.ts';
import { readPrivateKeyRing, readThresholdKeyRing } from '../config/key-ring.ts';
import type { MqttClient } from 'mqtt';
import { slotPackingFor } from '../../firmware/config/packing.ts';
import { maskedPackingFor, maskedParamsOf } from '../../firmware/masked/params.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { meterMaskKey, meterStatusKey, readSecrets, servicePassword, type Secrets } from '../config/secrets.ts';
import { MaskedCustodiansClient } from '../decryption/masked-client.ts';
import type { Aggregate } from '../protocol/aggregate.ts';
import { maskedScheme } from '../scheme/aggregation.ts';
import { maskSum, unmask } from '../scheme/unmask.ts';
import { allMeters, type MeterveilConfig } from '../config/schema.ts';
import { ThresholdDecryptionClient } from '../decryption/threshold-client.ts';
import { liveSeriesRow, startHttpApi, type ApiContext } from './http-api.ts';
import { LiveEvents } from './live-events.ts';
import { providerMetrics } from './metrics.ts';
import { apiServerTls, brokerConnection } from '../tls/files.ts';
import { readApiTokens } from './api-tokens.ts';
import { Provider, type Decrypted, type Decryption } from './provider.ts';
import { ProviderStore } from './store.ts';
import type { Registry } from '../metrics/registry.ts';
import type { RoleLog } from '../log/logger.ts';
import { providerCollection } from './retention.ts';
import { startCollection, type Collector } from '../store/collector.ts';
import { watchCollection } from '../store/collection-metrics.ts';

export interface RunningProvider {
  provider: Provider;
  store: ProviderStore;
  /** Background collection of the file (host/provider/retention.ts). */
  collector: Collector;
  apiUrl: string;
  /** Its Prometheus metrics, served on the API as /metrics. */
  metrics: Registry;
  stop(): Promise<void>;
}

export function providerStorePath(config: MeterveilConfig): string {
  return join(config.dataDir, 'provider.sqlite');
}

/**
 * The keys the provider decrypts with; threshold mode holds no private key, only the public ones,
 * and a masked deployment's provider holds its mask keys of the meters (single-key) or none
 * (verifiable: the custodians hold them). Either ring lists old keys first; the newest is the one
 * the API reports as current.
 */
function decryptionOf(config: MeterveilConfig, secrets: Secrets, client: MqttClient) {
  const d = config.provider.decryption;
  const { scheme } = config;
  if (scheme.name === 'masked') {
    const packing = maskedPackingFor(config.slotSeconds, config.packing);
    const params = maskedParamsOf(packing);
    const common = { packing, keyId: scheme.keyId, keyIds: scheme.keyIds };
    if (d.mode === 'threshold') {
      const custodians = new MaskedCustodiansClient({
        client,
        keyIds: scheme.keyIds,
        custodians: d.custodians,
        params,
        timeoutMs: d.timeoutMs,
      });
      return {
        ...common,
        custodians,
        decryption: { mode: 'threshold', keyIds: scheme.keyIds, client: custodians, retryMs: d.retryMs } as Decryption,
      };
    }
    const keys = new Map<string, Uint8Array>();
    const keyOf = (keyId: string) => (meterId: string) => {
      const at = `${meterId}/${keyId}`;
      if (!keys.has(at)) keys.set(at, meterMaskKey(secrets, meterId, keyId, 0));
      return keys.get(at);
    };
    const schemes = new Map(scheme.keyIds.map((id) => [id, maskedScheme(id, params)]));
    const decrypt = (a: Aggregate) =>
      unmask(schemes.get(a.keyId)!.parse(a.ciphertext), [maskSum(keyOf(a.keyId), a.contributors, a.keyId, a.slot, params)], params);
    return { ...common, decryption: { mode: 'single', keyIds: scheme.keyIds, decrypt } as Decryption };
  }
  if (d.mode === 'single') {
    const ring = readPrivateKeyRing(config);
    const newest = [...ring.values()].at(-1)!.publicKey;
    const decrypt = (a: Aggregate) => {
      const key = ring.get(a.keyId)!;
      return key.decrypt(ciphertextFromBytes(key.publicKey, a.ciphertext));
    };
    return {
      packing: slotPackingFor(config.slotSeconds, config.packing, newest.bits),
      keyId: newest.keyId,
      keyIds: [...ring.keys()],
      decryption: { mode: 'single', keyIds: [...ring.keys()], decrypt } as Decryption,
    };
  }
  const ring = readThresholdKeyRing(config);
  const newest = ring.at(-1)!;
  const keyIds = ring.map((k) => k.keyId);
  const custodians = new ThresholdDecryptionClient({ client, publicKeys: ring, timeoutMs: d.timeoutMs });
  return {
    packing: slotPackingFor(config.slotSeconds, config.packing, newest.paillier.bits),
    keyId: newest.keyId,
    keyIds,
    custodians,
    decryption: { mode: 'threshold', keyIds, client: custodians, retryMs: d.retryMs } as Decryption,
  };
}

export async function runProvider(
  config: MeterveilConfig,
  options: { log?: RoleLog; now?: () => number; onDecrypted?: (d: Decrypted) => void; httpPort?: number } = {},
): Promise<RunningProvider> {
  const secrets = readSecrets(config.keys.secrets);
  // Read before anything starts: without them the API would serve no one, or (worse) everyone.
  const tokens = readApiTokens(config.http.tokens);
  const client = connectRole({ ...brokerConnection(config), username: PROVIDER_USER, password: servicePassword(secrets, PROVIDER_USER) });
  let key: ReturnType<typeof decryptionOf>;
  let store: ProviderStore;
  // A refused key ring or store (store-mismatch) ends the connection, whose reconnections would
  // otherwise keep the process from exiting with the refusal.
  try {
    key = decryptionOf(config, secrets, client);
    store = new ProviderStore(providerStorePath(config), key.keyIds, config.durability);
  } catch (e) {
    client.end(true);
    throw e;
  }
  const { packing, decryption } = key;
  const thresholdClient = key.custodians;
  const statusKeys = new Map<string, Uint8Array>();
  for (const meterId of allMeters(config)) {
    const statusKey = meterStatusKey(secrets, meterId);
    if (statusKey) statusKeys.set(meterId, statusKey);
  }
  const metrics = providerMetrics(config, options.now);
  const events = new LiveEvents();
  const apiContext: ApiContext = {
    config,
    store,
    keyId: key.keyId,
    brokerConnected: () => client.connected,
    tokens,
    aggregators: () => provider.aggregatorStatus,
    now: options.now,
    events,
    metrics: metrics.registry,
  };
  const onSlotChanged = (groupId: string, slot: number) => {
    if (events.listeners === 0) return;
    const row = liveSeriesRow(apiContext, groupId, slot);
    if (row) events.publish('slot', row);
  };
  const provider = new Provider({
    config,
    decryption,
    packing,
    store,
    client,
    statusKeys,
    onSlotChanged,
    ...options,
    onDecrypted: (d) => {
      metrics.onDecrypted(d);
      options.onDecrypted?.(d);
    },
    onDecryption: metrics.onDecryption,
  });
  metrics.watch(provider, store);
  const collector = startCollection(store.db, providerCollection(store.db, config), config.retention, {
    now: options.now,
    log: options.log,
  });
  watchCollection(metrics.registry, collector, store.db);
  let api;
  try {
    await connected(client);
    await thresholdClient?.start();
    await provider.start();
    api = await startHttpApi(apiContext, config.http.host, options.httpPort ?? config.http.port, apiServerTls(config));
  } catch (e) {
    events.close();
    provider.stop();
    await collector.stop();
    thresholdClient?.stop();
    client.end(true);
    store.close();
    throw e;
  }
  return {
    provider,
    store,
    collector,
    apiUrl: api.url,
    metrics: metrics.registry,
    async stop() {
      provider.stop();
      await collector.stop();
      thresholdClient?.stop();
      events.close();
      await api.close();
      await endClient(client);
      store.close();
    },
  };
}
