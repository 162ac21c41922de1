/**
 * Hands each message of an aggregator process's one MQTT connection to the group it concerns: a
 * report to the group its topic names (a meter in several groups publishes once on each group's
 * topic), a backlog marker to its group, a key announcement to all. A report on a topic no group
 * here reads (one queued in the session for a group since moved to another host) is refused
 * `unexpected-topic` by the first group and never acknowledged, so its meter sends it again to the
 * host that runs its group now.
 */
import type { MqttClient } from 'mqtt';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import type { GroupConfig } from '../config/schema.ts';
import type { Aggregator } from './aggregator.ts';

export function routeMessages(client: MqttClient, aggregators: readonly { aggregator: Aggregator; group: GroupConfig }[]): void {
  const all = aggregators.map((a) => a.aggregator);
  const byBacklog = new Map(all.map((a) => [a.backlogTopic, a]));
  const byGroup = new Map(aggregators.map(({ aggregator, group }) => [group.id, aggregator]));
  client.on('message', (topic, payload) => {
    if (topic === KEY_ANNOUNCEMENT_TOPIC) {
      for (const a of all) a.handle(topic, payload);
      return;
    }
    const groupId = groupLevel(topic);
    (byBacklog.get(topic) ?? (groupId === undefined ? undefined : byGroup.get(groupId)) ?? all[0]).handle(topic, payload);
  });
}

const GROUPS = 'meterveil/v1/groups/';

/** The group level of a topic under meterveil/v1/groups/; the group's aggregator checks the rest (once per report, not twice). */
function groupLevel(topic: string): string | undefined {
  if (!topic.startsWith(GROUPS)) return undefined;
  const end = topic.indexOf('/', GROUPS.length);
  return end < 0 ? undefined : topic.slice(GROUPS.length, end);
}
