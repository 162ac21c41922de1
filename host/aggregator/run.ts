/**
 * Starts an aggregator process from the config: one group (`aggregator --group`, MQTT identity
 * aggregator.<group>) or an aggregator host's groups (`aggregator --host`, config `aggregators`,
 * identity aggregators.<host>), in either case over one broker connection, with one store file per
 * group: a file moves with its group when the group moves to another host, and one group's
 * commits do not wait on another's.
 */
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { connected, connectRole, endClient } from '../mqtt/client.ts';
import { brokerConnection } from '../tls/files.ts';
import { aggregatorHostUser, aggregatorUser } from '../config/identities.ts';
import { readCosigners } from '../config/key-ring.ts';
import { acceptedSchemes } from '../scheme/of-config.ts';
import { readPublicKeyFile } from '../paillier/key-files.ts';
import { findGroup, type GroupConfig, type MeterveilConfig } from '../config/schema.ts';
import { findAggregatorHost } from '../config/placement.ts';
import { meterAckKey, meterMacKey, readSecrets, servicePassword, type Secrets } from '../config/secrets.ts';
import { groupReportsFilter } from '../protocol/topics.ts';
import { Aggregator, type SlotClosed } from './aggregator.ts';
import { AggregatorStore } from './store.ts';
import { aggregatorMetrics, type AggregatorMetrics } from './metrics.ts';
import type { Registry } from '../metrics/registry.ts';
import type { RoleLog } from '../log/logger.ts';
import { aggregatorCollection } from './retention.ts';
import { startCollection, type Collector } from '../store/collector.ts';
import { watchCollections } from '../store/collection-metrics.ts';
import { lockStore, type OwnerLock } from '../store/owner-lock.ts';
import { routeMessages } from './router.ts';
import { forgetOldTopics, sessionTopicsPath } from './session-topics.ts';

export interface AggregatorOptions {
  log?: RoleLog;
  now?: () => number;
  onSlotClosed?: (e: SlotClosed) => void;
}

export interface RunningAggregators {
  aggregators: Aggregator[];
  metrics: Registry;
  stop(): Promise<void>;
}

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

/** One group's aggregator in its own process (`meterveil aggregator --group`). */
export async function runAggregator(config: MeterveilConfig, groupId: string, options: AggregatorOptions = {}): Promise<RunningAggregator> {
  const group = findGroup(config, groupId);
  const running = await runGroups(config, [group], { user: aggregatorUser(groupId), labels: { group: groupId } }, options);
  return { aggregator: running.aggregators[0], metrics: running.metrics, collector: running.collectors[0], stop: running.stop };
}

/** An aggregator host's groups in one process over one connection (`meterveil aggregator --host`). */
export async function runAggregatorHost(
  config: MeterveilConfig,
  hostName: string,
  options: AggregatorOptions = {},
): Promise<RunningAggregators> {
  const host = findAggregatorHost(config.aggregators, hostName);
  const groups = host.groups.map((g) => findGroup(config, g));
  return runGroups(
    config,
    groups,
    { user: aggregatorHostUser(host.name), labels: { host: host.name }, sessionTopics: sessionTopicsPath(config.dataDir, host.name) },
    options,
  );
}

interface GroupRun {
  aggregator: Aggregator;
  group: GroupConfig;
  store: AggregatorStore;
  lock: OwnerLock;
  collector: Collector;
}

async function runGroups(
  config: MeterveilConfig,
  groups: GroupConfig[],
  identity: { user: string; labels: { group: string } | { host: string }; sessionTopics?: string },
  options: AggregatorOptions,
): Promise<RunningAggregators & { collectors: Collector[] }> {
  const secrets = readSecrets(config.keys.secrets);
  const metrics = aggregatorMetrics(config, identity.labels, options.now);
  const runs: GroupRun[] = [];
  let client: MqttClient | undefined;
  const closeAll = async () => {
    for (const r of runs) await r.collector.stop();
    for (const r of runs) r.aggregator.stop();
    if (client) await endClient(client);
    for (const r of runs) {
      r.store.close();
      r.lock.release();
    }
  };
  try {
    const c = connectRole({ ...brokerConnection(config), username: identity.user, password: servicePassword(secrets, identity.user) });
    client = c;
    for (const group of groups) runs.push(openGroup(config, group, secrets, c, metrics, options));
    // Before the connection completes: a persistent session delivers queued reports at once.
    routeMessages(c, runs);
    metrics.watch(runs.map((r) => r.aggregator));
    watchCollections(
      metrics.registry,
      runs.map((r) => ({ collector: r.collector, file: r.store.db, labels: { group: r.group.id } })),
    );
    await connected(c);
    for (const r of runs) await r.aggregator.start();
    if (identity.sessionTopics) {
      const topics = groups.map((g) => groupReportsFilter(g.id));
      const stale = await forgetOldTopics(c, identity.sessionTopics, topics);
      if (stale.length > 0)
        options.log?.info({ topics: stale.length }, `${identity.user}: unsubscribed ${stale.length} topic(s) of groups no longer here`);
    }
  } catch (e) {
    if (!client) throw e;
    client.end(true);
    client = undefined;
    await closeAll();
    throw e;
  }
  return {
    aggregators: runs.map((r) => r.aggregator),
    collectors: runs.map((r) => r.collector),
    metrics: metrics.registry,
    stop: closeAll,
  };
}

function openGroup(
  config: MeterveilConfig,
  group: GroupConfig,
  secrets: Secrets,
  client: MqttClient,
  metrics: AggregatorMetrics,
  options: AggregatorOptions,
): GroupRun {
  const schemes = acceptedSchemes(config);
  const cosigners = config.scheme.name === 'paillier' ? readCosigners(config) : undefined;
  const endorsement = cosigners && { provisionedKeyId: readPublicKeyFile(config.keys.publicKey).keyId, cosigners };
  const macKeys = new Map(group.members.map((m) => [m, meterMacKey(secrets, m)]));
  const ackKeys = new Map(group.members.map((m) => [m, meterAckKey(secrets, m, group.id)]));
  const path = aggregatorStorePath(config, group.id);
  const lock = lockStore(path, `aggregator ${group.id}`);
  let store: AggregatorStore;
  try {
    store = new AggregatorStore(path, { groupId: group.id }, config.durability);
  } catch (e) {
    lock.release();
    throw e;
  }
  const aggregator = new Aggregator({
    config,
    group,
    schemes,
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
  const collector = startCollection(store.db, aggregatorCollection(store.db, config), config.retention, {
    now: options.now,
    log: options.log,
  });
  return { aggregator, group, store, lock, collector };
}
