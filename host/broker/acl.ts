/**
 * Who may publish and subscribe where, derived from the config. One table drives both the
 * embedded broker and the ACL file written for mosquitto, so the two cannot drift apart.
 *   meter M:        publishes meterveil/v1/groups/G/reports/M for each group G it is in and its
 *                   health status (retained) meterveil/v1/meters/M/status, reads
 *                   meterveil/v1/meters/M/acks and the key announcements (meterveil/v1/keys/announcements)
 *   aggregator G:   reads meterveil/v1/groups/G/reports/+ (where only G's members and G's own
 *                   backlog marker may publish) and the key announcements, publishes its members'
 *                   ack topics, G's aggregates and status topics (only aggregators publish
 *                   aggregates) and its backlog marker
 *   feeder F:       publishes meterveil/v1/feeders/F/readings
 *   provider:       reads all aggregates, status (aggregators' and meters') and feeder readings; publishes (retained) the
 *                   key announcements and nothing else: no one else may replace them
 * Subscriptions must name an allowed filter exactly (no wider wildcard).
 */
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import { METER_STATUS_TOPIC_FILTER, meterStatusTopic } from '../../firmware/protocol/meter-status.ts';
import { ackTopic, reportTopic } from '../../firmware/protocol/report.ts';
import { aggregatorUser, feederUser, meterUser, PROVIDER_USER } from '../config/identities.ts';
import { allMeters, type MeterveilConfig } from '../config/schema.ts';
import {
  AGGREGATE_TOPIC_FILTER,
  aggregateTopic,
  aggregatorStatusTopic,
  backlogTopic,
  FEEDER_TOPIC_FILTER,
  feederTopic,
  groupReportsFilter,
  STATUS_TOPIC_FILTER,
} from '../protocol/topics.ts';

export interface Permissions {
  publish: Set<string>;
  subscribe: Set<string>;
}

export type Acl = Map<string, Permissions>;

function entry(acl: Acl, user: string): Permissions {
  let p = acl.get(user);
  if (!p) acl.set(user, (p = { publish: new Set(), subscribe: new Set() }));
  return p;
}

export function buildAcl(config: MeterveilConfig): Acl {
  const acl: Acl = new Map();
  for (const meterId of allMeters(config)) {
    const p = entry(acl, meterUser(meterId));
    p.publish.add(meterStatusTopic(meterId));
    p.subscribe.add(ackTopic(meterId));
    p.subscribe.add(KEY_ANNOUNCEMENT_TOPIC);
  }
  for (const group of config.groups) {
    const a = entry(acl, aggregatorUser(group.id));
    for (const meterId of group.members) {
      entry(acl, meterUser(meterId)).publish.add(reportTopic(group.id, meterId));
      a.publish.add(ackTopic(meterId));
    }
    a.subscribe.add(groupReportsFilter(group.id));
    a.publish.add(aggregateTopic(group.id));
    // Threshold deployments: a key counts only once its announcement is cosigned (host/aggregator/).
    a.subscribe.add(KEY_ANNOUNCEMENT_TOPIC);
    a.publish.add(aggregatorStatusTopic(group.id));
    a.publish.add(backlogTopic(group.id));
    entry(acl, feederUser(group.feeder)).publish.add(feederTopic(group.feeder));
  }
  const provider = entry(acl, PROVIDER_USER);
  provider.subscribe.add(AGGREGATE_TOPIC_FILTER);
  provider.subscribe.add(FEEDER_TOPIC_FILTER);
  provider.subscribe.add(STATUS_TOPIC_FILTER);
  provider.subscribe.add(METER_STATUS_TOPIC_FILTER);
  provider.publish.add(KEY_ANNOUNCEMENT_TOPIC);
  return acl;
}

export function mayPublish(acl: Acl, user: string | undefined, topic: string): boolean {
  return user !== undefined && (acl.get(user)?.publish.has(topic) ?? false);
}

export function maySubscribe(acl: Acl, user: string | undefined, filter: string): boolean {
  return user !== undefined && (acl.get(user)?.subscribe.has(filter) ?? false);
}
