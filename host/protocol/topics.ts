/** MQTT topics of the host roles; the meters' own topics are in firmware/protocol/report.ts. */
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

/** An aggregator's own marker, which it publishes to itself to learn that its queued backlog is in (host/aggregator/backlog.ts). */
export function backlogTopic(groupId: string): string {
  return `meterveil/v1/groups/${groupId}/backlog`;
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
export const meterOfReportTopic = (t: string) => topicSegment(t, 'meterveil/v1/meters/', '/reports');
export const meterOfStatusTopic = (t: string) => topicSegment(t, 'meterveil/v1/meters/', '/status');
