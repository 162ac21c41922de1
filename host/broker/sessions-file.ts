/**
 * The subscriptions of the embedded broker's persistent sessions (the roles: aggregators,
 * provider, custodians; meters use clean sessions), kept in a file beside the roles' stores.
 * aedes keeps sessions in memory, so without this a restarted broker knew no subscriber until
 * each role had reconnected and subscribed again: a meter back first replayed its outbox to
 * nobody (acknowledged at QoS 1 by the broker, so the report came again only after the meter's
 * ack timeout, while later slots closed), and an aggregate published before the provider was back
 * was lost. With the subscriptions restored at start the broker queues such messages for the
 * session, which resumes (sessionPresent) as it does on mosquitto with persistence. Messages that
 * were queued when the broker stopped are not kept: the meters replay what was not acknowledged.
 *
 * The file is input like any other: an entry is restored only if its user exists, its client id
 * is one that user may take, and the current ACL lets that user subscribe to each filter; the rest
 * is counted (`session-not-allowed`), and a file that does not parse is counted
 * (`sessions-file-malformed`) and replaced by the next write.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PRIVATE_FILE_MODE } from '../store/private-file.ts';

export interface SavedSession {
  clientId: string;
  username: string;
  /** Topic filters and their granted QoS. */
  subscriptions: { topic: string; qos: 0 | 1 | 2 }[];
}

/** Far above a deployment's roles (one session per aggregator, provider and custodian). */
const MAX_SESSIONS = 10_000;
const MAX_SUBSCRIPTIONS = 100_000;
const MAX_STRING = 1024;
const FORMAT = 1;

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_STRING;

function parseSession(raw: unknown): SavedSession | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { clientId, username, subscriptions } = raw as Record<string, unknown>;
  if (!isText(clientId) || !isText(username) || !Array.isArray(subscriptions) || subscriptions.length > MAX_SUBSCRIPTIONS) return undefined;
  const subs: SavedSession['subscriptions'] = [];
  for (const s of subscriptions) {
    const { topic, qos } = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    if (!isText(topic) || (qos !== 0 && qos !== 1 && qos !== 2)) return undefined;
    subs.push({ topic, qos });
  }
  return { clientId, username, subscriptions: subs };
}

/** The sessions in `path` (none when it is absent); `malformed`: entries, or the whole file, that did not parse. */
export function readSessions(path: string): { sessions: SavedSession[]; malformed: number } {
  if (!existsSync(path)) return { sessions: [], malformed: 0 };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return { sessions: [], malformed: 1 };
  }
  const { format, sessions } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (format !== FORMAT || !Array.isArray(sessions) || sessions.length > MAX_SESSIONS) return { sessions: [], malformed: 1 };
  const parsed = sessions.map(parseSession);
  return {
    sessions: parsed.filter((s) => s !== undefined),
    malformed: parsed.filter((s) => s === undefined).length,
  };
}

/** Replaces the file at once (a crash leaves the old or the new one, never half of one), mode 0600. */
export function writeSessions(path: string, sessions: Iterable<SavedSession>): void {
  mkdirSync(dirname(path), { recursive: true });
  const next = `${path}.next`;
  writeFileSync(next, JSON.stringify({ format: FORMAT, sessions: [...sessions] }), { mode: PRIVATE_FILE_MODE });
  renameSync(next, path);
}
