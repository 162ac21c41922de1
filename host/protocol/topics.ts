/** MQTT topics of the host roles; the meters' own topics are in firmware/protocol/report.ts. */
import { isValidId } from '../../firmware/protocol/report.ts';

export function aggregateTopic(groupId: string): string {
  return `meterveil/v1/groups/${groupId}/aggregates`;
}

/** Threshold mode: an aggregate's contributing reports, for the custodians only (host/protocol/evidence.ts). */
export function evidenceTopic(groupId: string): string {
  return `meterveil/v1/groups/${groupId}/evidence`;
}

export function aggregatorStatusTopic(groupId: string): string {
  return `meterveil/v1/groups/${groupId}/status`;
}

/** What an aggregator subscribes to: every member's reports (firmware/protocol/report.ts) and its own backlog marker. */
export function groupReportsFilter(groupId: string): string {
  return `meterveil/v1/groups/${groupId}/reports/+`;
}

/**
 * The last level of the aggregator's own backlog marker topic (host/aggregator/backlog.ts): `~`
 * lies outside the id alphabet ([A-Za-z0-9._-]), so no meter id can name it.
 */
const BACKLOG_LEVEL = '~backlog';

/**
 * The marker an aggregator publishes to itself to learn that its queued backlog is in: under its
 * reports filter, so that it comes back through the same subscription, behind the reports queued
 * before it.
 */
export function backlogTopic(groupId: string): string {
  return `meterveil/v1/groups/${groupId}/reports/${BACKLOG_LEVEL}`;
}

export function feederTopic(feederId: string): string {
  return `meterveil/v1/feeders/${feederId}/readings`;
}

export const AGGREGATE_TOPIC_FILTER = 'meterveil/v1/groups/+/aggregates';
export const EVIDENCE_TOPIC_FILTER = 'meterveil/v1/groups/+/evidence';
export const FEEDER_TOPIC_FILTER = 'meterveil/v1/feeders/+/readings';
export const STATUS_TOPIC_FILTER = 'meterveil/v1/groups/+/status';

/** The {id} segment of a topic of the given shape, or undefined. */
export function topicSegment(topic: string, prefix: string, suffix: string): string | undefined {
  if (!topic.startsWith(prefix) || !topic.endsWith(suffix)) return undefined;
  const middle = topic.slice(prefix.length, topic.length - suffix.length);
  return middle.length > 0 && !middle.includes('/') ? middle : undefined;
}

export const groupOfAggregateTopic = (t: string) => topicSegment(t, 'meterveil/v1/groups/', '/aggregates');
export const groupOfEvidenceTopic = (t: string) => topicSegment(t, 'meterveil/v1/groups/', '/evidence');
export const groupOfStatusTopic = (t: string) => topicSegment(t, 'meterveil/v1/groups/', '/status');
export const feederOfTopic = (t: string) => topicSegment(t, 'meterveil/v1/feeders/', '/readings');
/** The group and meter of a report topic (meterveil/v1/groups/G/reports/M), or undefined; the marker's topic is none. */
export function reportTopicParts(topic: string): { groupId: string; meterId: string } | undefined {
  const levels = topic.split('/');
  if (levels.length !== 6 || levels[0] !== 'meterveil' || levels[1] !== 'v1' || levels[2] !== 'groups' || levels[4] !== 'reports')
    return undefined;
  const [, , , groupId, , meterId] = levels;
  return isValidId(groupId) && isValidId(meterId) ? { groupId, meterId } : undefined;
}
export const meterOfStatusTopic = (t: string) => topicSegment(t, 'meterveil/v1/meters/', '/status');
