/**
 * Hands each message of an aggregator process's one MQTT connection to the groups it concerns: a
 * report to every group here that lists its meter (a meter may be in several), a backlog marker to
 * its group, a key announcement to all. A report on a topic no group here reads (one queued in the
 * session for a group since moved to another host) is refused `unexpected-topic` by the first
 * group and never acknowledged, so its meter sends it again to the host that runs its group now.
 */
import type { MqttClient } from 'mqtt';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import type { GroupConfig } from '../config/schema.ts';
import { meterOfReportTopic } from '../protocol/topics.ts';
import type { Aggregator } from './aggregator.ts';

export function routeMessages(client: MqttClient, aggregators: readonly { aggregator: Aggregator; group: GroupConfig }[]): void {
  const all = aggregators.map((a) => a.aggregator);
  const byBacklog = new Map(all.map((a) => [a.backlogTopic, a]));
  const byMeter = new Map<string, Aggregator[]>();
  for (const { aggregator, group } of aggregators) {
    for (const m of group.members) byMeter.set(m, [...(byMeter.get(m) ?? []), aggregator]);
  }
  client.on('message', (topic, payload) => {
    if (topic === KEY_ANNOUNCEMENT_TOPIC) {
      for (const a of all) a.handle(topic, payload);
      return;
    }
    const own = byBacklog.get(topic);
    if (own) return own.handle(topic, payload);
    const meterId = meterOfReportTopic(topic);
    for (const a of (meterId === undefined ? undefined : byMeter.get(meterId)) ?? all.slice(0, 1)) a.handle(topic, payload);
  });
}
