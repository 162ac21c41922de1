/**
 * The report and marker topics an aggregator host's persistent session subscribed to, kept beside
 * its stores (dataDir/aggregator-host-<name>.json). A session keeps its subscriptions across
 * restarts, so a host whose group moved away would go on receiving that group's reports: at start
 * it unsubscribes what it subscribed before and reads no longer. This is economy, not safety:
 * without the file (lost, or another machine) those reports are refused unexpected-topic and never
 * acknowledged (host/aggregator/router.ts).
 */
import type { MqttClient } from 'mqtt';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function sessionTopicsPath(dataDir: string, hostName: string): string {
  return join(dataDir, `aggregator-host-${hostName}.json`);
}

function readTopics(path: string): string[] {
  if (!existsSync(path)) return [];
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { topics?: unknown };
    return Array.isArray(parsed.topics) ? parsed.topics.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    // A torn or foreign file: nothing to unsubscribe from it; the router refuses what still comes.
    return [];
  }
}

/** Unsubscribes the topics subscribed before and not in `topics`, then records `topics`. */
export async function forgetOldTopics(client: MqttClient, path: string, topics: readonly string[]): Promise<string[]> {
  const now = new Set(topics);
  const stale = readTopics(path).filter((t) => !now.has(t));
  if (stale.length > 0) await client.unsubscribeAsync(stale);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify({ topics: [...now].sort() }) + '\n');
  renameSync(tmp, path);
  return stale;
}
