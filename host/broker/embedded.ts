/**
 * The embedded MQTT broker (aedes): per-party passwords, the ACL of acl.ts, and a cap on message
 * size. Before a client has authenticated it can make the broker hold little: each connection's
 * bytes are framed as they arrive (frame-guard.ts), so a first packet that is not a small CONNECT,
 * or any packet declaring more than a message may be, closes the connection at once, and a
 * connection that sends no CONNECT is closed after connectTimeoutMs. Refusals are counted by reason.
 * It listens with TLS when given a certificate; without one only on a loopback address, and
 * refuses to start on any other (plain-off-loopback). A client's own messages reach subscribers
 * only after the queue of its resumed session (as in mosquitto), and each session's queue is bounded
 * (queue-bound.ts, as mosquitto's max_queued_messages). Retained messages and queued
 * messages live in memory: the roles keep their own durable state and the meters their outboxes,
 * so a broker restart loses nothing acknowledged. The subscriptions of persistent sessions are
 * kept in a file (sessions-file.ts), so that after a restart the broker queues for a role that is
 * not back yet instead of dropping what arrives before it subscribes again. close() ends every
 * connection, authenticated or not, so no socket outlives the broker.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Duplex, pipeline } from 'node:stream';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { fail, type Reason } from '../../firmware/errors.ts';
import { clientIdAllowed } from '../config/identities.ts';
import { listen } from '../net/listen.ts';
import { isLoopbackHost } from '../net/loopback.ts';
import type { PemPair } from '../tls/certificates.ts';
import { mayPublish, maySubscribe, type Acl } from './acl.ts';
import { MqttFrameGuard } from './frame-guard.ts';
import { boundSessionQueues, type OutgoingQueues } from './queue-bound.ts';
import { readSessions, writeSessions, type SavedSession } from './sessions-file.ts';
import type { RoleLog } from '../log/logger.ts';

/** Far above any legitimate message (largest: an aggregate of 10,000 contributors). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** A PUBLISH packet: the message, its topic and properties. */
const MAX_PACKET_BYTES = MAX_MESSAGE_BYTES + 64 * 1024;
/** A CONNECT packet: client id, user name, password (and a will, which no role sets). */
const MAX_CONNECT_BYTES = 16 * 1024;
const CONNECT_TIMEOUT_MS = 10_000;

export interface EmbeddedBroker {
  port: number;
  refusals: Map<string, number>;
  /** Clients connected and authenticated now. */
  connectedClients(): number;
  /** Messages clients published that the broker took (its own $SYS messages aside). */
  published(): number;
  /**
   * Takes a new table of users and permissions (a group moved to another aggregator host, a host
   * added): checked from the next login, publication and subscription on. A subscription already
   * made stays; the client that made it no longer counts what comes on it (host/aggregator/router.ts).
   */
  reload(access: { users: Map<string, string>; acl: Acl }): void;
  close(): Promise<void>;
}

const digest = (s: string | Buffer) => createHash('sha256').update(s).digest();

export async function startEmbeddedBroker(options: {
  host: string;
  port: number;
  users: Map<string, string>;
  acl: Acl;
  log?: RoleLog;
  /** How long a connection may stay open without a CONNECT. */
  connectTimeoutMs?: number;
  /** The broker's certificate and key: it then speaks MQTT over TLS only. */
  tls?: PemPair;
  /** Where the subscriptions of persistent sessions are kept across restarts (sessions-file.ts); none kept without it. */
  sessionsFile?: string;
  /** The most messages a session's queue holds (queue-bound.ts, as mosquitto's max_queued_messages); no bound without it. */
  maxQueuedMessages?: number;
}): Promise<EmbeddedBroker> {
  if (!options.tls && !isLoopbackHost(options.host))
    fail(
      'plain-off-loopback',
      `the broker would listen without TLS on ${options.host}, which is not a loopback address; give it a certificate`,
    );
  const refusals = new Map<string, number>();
  const count = (reason: Reason) => refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
  const refuse = (reason: Reason, detail: string) => {
    count(reason);
    options.log?.warn({ reason }, `broker refused ${reason}: ${detail}`);
  };
  // Per client still delivering its resumed session's queue: resolved when that is out.
  const queuesOut = new WeakMap<Client, Promise<void>>();
  const queueOut = (client: Client) => {
    let out = queuesOut.get(client);
    if (!out) queuesOut.set(client, (out = new Promise((resolve) => client.once('connected', () => resolve()))));
    return out;
  };
  const hashed = (users: Map<string, string>) => new Map([...users].map(([u, p]) => [u, digest(p)]));
  let passwords = hashed(options.users);
  let acl = options.acl;
  const userOf = new WeakMap<Client, string>();

  const broker = await Aedes.createBroker({
    connectTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    authenticate(client, username, password, done) {
      const expected = username === undefined ? undefined : passwords.get(username);
      const ok = expected !== undefined && password !== undefined && timingSafeEqual(expected, digest(password));
      if (!ok || !clientIdAllowed(username!, client.id)) {
        refuse(ok ? 'client-id-not-allowed' : 'bad-credentials', `user ${username ?? '(none)'} client ${client.id}`);
        const error = new Error('not authorized') as AuthenticateError;
        error.returnCode = ok ? 2 : 4;
        return done(error, false);
      }
      userOf.set(client, username!);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      const user = client ? userOf.get(client) : undefined;
      if (packet.payload && packet.payload.length > MAX_MESSAGE_BYTES) {
        refuse('oversized', `${user} on ${packet.topic}`);
        return done(new Error('message too large'));
      }
      if (!mayPublish(acl, user, packet.topic)) {
        refuse('publish-not-allowed', `${user} on ${packet.topic}`);
        return done(new Error('publish not allowed'));
      }
      // aedes delivers new messages live while it still streams a resumed session's queue; a
      // client's own messages wait until that queue is out ('connected'), so that what it
      // publishes to itself arrives behind its backlog, as in mosquitto (host/aggregator/backlog.ts).
      if (client && !client.connected) queueOut(client).then(() => done(null));
      else done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const user = userOf.get(client);
      if (!maySubscribe(acl, user, subscription.topic)) {
        refuse('subscribe-not-allowed', `${user} to ${subscription.topic}`);
        // Refused on its own (SUBACK 0x80), the connection kept: aedes authorizes a resumed
        // session's subscriptions again at each login, and one the table no longer allows (its
        // group moved to another aggregator host) must not keep the session from connecting.
        return done(null, null);
      }
      done(null, subscription);
    },
  });

  const maxQueued = options.maxQueuedMessages;
  if (maxQueued !== undefined)
    boundSessionQueues((broker as unknown as { persistence: OutgoingQueues }).persistence, maxQueued, (clientId, first) =>
      // One line per filling, not per message dropped: a flood would flood the log too.
      first
        ? refuse('queue-full', `session ${clientId} holds ${maxQueued} messages; newer ones are dropped until it takes some`)
        : count('queue-full'),
    );

  const sessions =
    options.sessionsFile === undefined
      ? undefined
      : await restoreSessions(
          broker,
          options.sessionsFile,
          (s) => passwords.has(s.username) && clientIdAllowed(s.username, s.clientId),
          acl,
          refuse,
        );
  const keeper = sessions && keepSessions(broker, options.sessionsFile!, sessions, userOf, options.log);

  let published = 0;
  broker.on('publish', (_packet, client) => {
    if (client) published++;
  });
  broker.on('connectionError', (_client, error) => {
    if (/connect did not arrive in time/.test(error.message)) refuse('connect-timeout', 'no CONNECT in time');
  });
  // Every connection, so that close() can end those aedes does not know yet (no CONNECT, or one
  // still being authenticated): they would keep the server, and the process, open.
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const guard = new MqttFrameGuard({ maxConnectBytes: MAX_CONNECT_BYTES, maxPacketBytes: MAX_PACKET_BYTES }, (reason, detail) => {
      refuse(reason, `${socket.remoteAddress}:${socket.remotePort}: ${detail}`);
      socket.destroy();
    });
    // pipeline: a reset or a refusal on either side destroys both, so nothing stays buffered.
    pipeline(socket, guard, () => {});
    broker.handle(Duplex.from({ readable: guard, writable: socket }));
  };
  let server: Server;
  if (options.tls) {
    // TLS 1.2 at least: the Moddable SDK's TLS speaks 1.2, and nothing older is safe.
    const tlsServer = createTlsServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        minVersion: 'TLSv1.2',
        // A connection that does not finish its handshake holds the broker no longer than one without a CONNECT.
        handshakeTimeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      },
      onConnection,
    );
    tlsServer.on('tlsClientError', (error, socket) =>
      refuse('tls-handshake-failed', `${socket.remoteAddress}:${socket.remotePort}: ${error.message}`),
    );
    server = tlsServer;
  } else server = createServer(onConnection);
  try {
    await listen(server, options.port, options.host);
  } catch (e) {
    // aedes' own timers would keep the process alive after the refusal.
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw e;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  return {
    port,
    refusals,
    connectedClients: () => broker.connectedClients,
    published: () => published,
    reload(access) {
      passwords = hashed(access.users);
      acl = access.acl;
    },
    close: async () => {
      // No new connection from here on; aedes ends its clients, then whatever it did not know.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await keeper?.flushed();
    },
  };
}

/** The part of aedes' session store used here (aedes 1.2 declares no type for it). */
interface SubscriptionStore {
  addSubscriptions(client: { id: string }, subs: SavedSession['subscriptions']): Promise<void>;
  subscriptionsByClient(client: { id: string }): Promise<SavedSession['subscriptions']>;
}
const subscriptionStore = (broker: Aedes) => (broker as unknown as { persistence: SubscriptionStore }).persistence;

/** Restores the saved sessions the users, client ids and ACL of now allow; counts the rest. */
async function restoreSessions(
  broker: Aedes,
  path: string,
  mayTake: (s: SavedSession) => boolean,
  acl: Acl,
  refuse: (reason: Reason, detail: string) => void,
): Promise<Map<string, SavedSession>> {
  const { sessions, malformed } = readSessions(path);
  for (let i = 0; i < malformed; i++) refuse('sessions-file-malformed', path);
  const kept = new Map<string, SavedSession>();
  for (const session of sessions) {
    if (!mayTake(session)) {
      refuse('session-not-allowed', `client ${session.clientId} of user ${session.username} in ${path}`);
      continue;
    }
    const subscriptions = session.subscriptions.filter((s) => {
      const allowed = maySubscribe(acl, session.username, s.topic);
      if (!allowed) refuse('session-not-allowed', `${session.username} to ${s.topic} in ${path}`);
      return allowed;
    });
    if (subscriptions.length === 0) continue;
    await subscriptionStore(broker).addSubscriptions({ id: session.clientId }, subscriptions);
    kept.set(session.clientId, { ...session, subscriptions });
  }
  return kept;
}

/** Writes the file again whenever a persistent session's subscriptions change, or a clean session discards one. */
function keepSessions(
  broker: Aedes,
  path: string,
  sessions: Map<string, SavedSession>,
  userOf: WeakMap<Client, string>,
  log: RoleLog | undefined,
) {
  let writing = Promise.resolve();
  const save = (update: () => Promise<void>) => {
    writing = writing
      .then(update)
      .then(() => writeSessions(path, sessions.values()))
      // The sessions in memory stand; only a restart before the next good write would miss the change.
      .catch((e: Error) => log?.error({ path }, `broker: sessions not saved: ${e.message}`));
  };
  const record = (client: Client | null) => {
    if (!client || client.clean) return;
    const username = userOf.get(client);
    if (username === undefined) return;
    save(async () => {
      const subscriptions = (await subscriptionStore(broker).subscriptionsByClient(client)).map(({ topic, qos }) => ({ topic, qos }));
      if (subscriptions.length > 0) sessions.set(client.id, { clientId: client.id, username, subscriptions });
      else sessions.delete(client.id);
    });
  };
  broker.on('subscribe', (_subs, client) => record(client));
  broker.on('unsubscribe', (_subs, client) => record(client));
  broker.on('clientReady', (client) => {
    if (client.clean && sessions.has(client.id))
      save(async () => {
        sessions.delete(client.id);
      });
  });
  return { flushed: () => writing };
}
