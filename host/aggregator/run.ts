/** Starts one group's aggregator from the config: keys, store, broker connection. */
import { join } from 'node:path';
import { connected, connectRole, endClient } from '../mqtt/client.ts';
import { brokerConnection } from '../tls/files.ts';
import { aggregatorUser } from '../config/identities.ts';
import { readAcceptedPublicKeys, readCosigners } from '../config/key-ring.ts';
import { readPublicKeyFile } from '../paillier/key-files.ts';
import { findGroup, type MeterveilConfig } from '../config/schema.ts';
import { meterAckKey, meterMacKey, readSecrets, servicePassword } from '../config/secrets.ts';
import { Aggregator, type SlotClosed } from './aggregator.ts';
import { AggregatorStore } from './store.ts';
import { aggregatorMetrics } from './metrics.ts';
import type { Registry } from '../metrics/registry.ts';
import type { RoleLog } from '../log/logger.ts';
import { aggregatorCollection } from './retention.ts';
import { startCollection, type Collector } from '../store/collector.ts';
import { watchCollection } from '../store/collection-metrics.ts';

export interface RunningAggregator {
  aggregator: Aggregator;
  metrics: Registry;
  /** Background collection of the file (host/aggregator/retention.ts). */
  collector: Collector;
  stop(): Promise<void>;
}

export function aggregatorStorePath(config: MeterveilConfig, groupId: string): string {
  return join(config.dataDir, `aggregator-${groupId}.sqlite`);
}

export async function runAggregator(
  config: MeterveilConfig,
  groupId: string,
  options: { log?: RoleLog; now?: () => number; onSlotClosed?: (e: SlotClosed) => void } = {},
): Promise<RunningAggregator> {
  const group = findGroup(config, groupId);
  const publicKeys = readAcceptedPublicKeys(config);
  const cosigners = readCosigners(config);
  const endorsement = cosigners && { provisionedKeyId: readPublicKeyFile(config.keys.publicKey).keyId, cosigners };
  const secrets = readSecrets(config.keys.secrets);
  const macKeys = new Map(group.members.map((m) => [m, meterMacKey(secrets, m)]));
  const ackKeys = new Map(group.members.map((m) => [m, meterAckKey(secrets, m, groupId)]));
  const store = new AggregatorStore(aggregatorStorePath(config, groupId), { groupId }, config.durability);
  const user = aggregatorUser(groupId);
  const client = connectRole({ ...brokerConnection(config), username: user, password: servicePassword(secrets, user) });
  const metrics = aggregatorMetrics(config, groupId, options.now);
  const aggregator = new Aggregator({
    config,
    group,
    publicKeys,
    macKeys,
    ackKeys,
    endorsement,
    store,
    client,
    ...options,
    onSlotClosed: (e) => {
      metrics.onSlotClosed(e);
      options.onSlotClosed?.(e);
    },
  });
  metrics.watch(aggregator);
  const collector = startCollection(store.db, aggregatorCollection(store.db, config), config.retention, {
    now: options.now,
    log: options.log,
  });
  watchCollection(metrics.registry, collector, store.db);
  try {
    await connected(client);
    await aggregator.start();
  } catch (e) {
    await collector.stop();
    client.end(true);
    store.close();
    throw e;
  }
  return {
    aggregator,
    metrics: metrics.registry,
    collector,
    async stop() {
      await collector.stop();
      aggregator.stop();
      await endClient(client);
      store.close();
    },
  };
}
