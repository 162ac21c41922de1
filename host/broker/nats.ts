/**
 * Files for a cluster of Debian's nats-server (2.9) as the broker tier: one config per node, with
 * MQTT on the node's broker URL, JetStream keeping MQTT sessions, QoS 1 messages and retained
 * messages replicated on three nodes, routes between the nodes, and the users and permissions of
 * the same table as the embedded broker and mosquitto (host/broker/acl.ts).
 *
 * NATS holds MQTT topics as subjects: `/` becomes `.`, `+` becomes `*`, `#` becomes `>`; a topic
 * with a `.` or a space is refused by 2.9, so ids with a `.` cannot be topics there. Permissions
 * name subjects. A QoS 1 subscription is a JetStream consumer that delivers on `$MQTT.sub.<random>`,
 * which the subscriber must be allowed to read; such a right reaches every delivery of the
 * account, so every user is allowed MQTT connections only: an MQTT client cannot subscribe to a
 * `$MQTT` topic (the server refuses it), a NATS client could.
 */
import { fail } from '../../firmware/errors.ts';
import { isLoopbackHost } from '../net/loopback.ts';
import type { Acl } from './acl.ts';

/** One node: where meters and roles reach its MQTT listener, and where the other nodes reach its route listener. */
export interface NatsNode {
  name: string;
  mqtt: { host: string; port: number };
  route: { host: string; port: number };
}

/** PEM paths of the node: the CA (which clients and the other nodes verify against), its certificate and key. */
export interface NatsTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface NatsNodeConfOptions {
  node: NatsNode;
  /** Every node of the cluster, this one included. */
  nodes: NatsNode[];
  /** JetStream's folder on this node. */
  storeDir: string;
  /** User name to password hash (bcrypt, see natsPasswordHash). */
  users: ReadonlyMap<string, string>;
  acl: Acl;
  /** The nodes' own login on their routes (a shared secret, plain: NATS keeps route credentials so). */
  routeUser: { user: string; password: string };
  /** MQTT over TLS and TLS between the nodes; absent: loopback only (checked). */
  tls?: NatsTlsFiles;
  /** QoS 1 messages the node sends one subscription before it waits for their acknowledgements (natsMaxAckPending). */
  maxAckPending: number;
}

export const NATS_CLUSTER_NAME = 'meterveil';
const NATS_ACCOUNT = 'METERVEIL';
/** Replicas of the MQTT streams: a majority of three survives one node. */
export const NATS_MQTT_REPLICAS = 3;
/** NATS's bound on the acknowledgements one MQTT session may wait for over all its subscriptions. */
const SESSION_ACK_PENDING_BOUND = 65_535;

/** An MQTT topic or filter as NATS's subject; a `.` or a space (which 2.9 refuses in a topic) is refused here. */
export function natsSubject(filter: string): string {
  if (/[. ]/.test(filter))
    fail(
      'bad-config',
      `MQTT topic "${filter}" holds a "." or a space, which nats-server 2.9 refuses: ids of meters, groups and feeders must not contain "."`,
    );
  return filter
    .split('/')
    .map((level) => (level === '+' ? '*' : level === '#' ? '>' : level))
    .join('.');
}

/** NATS subscribes a filter ending in `#` twice (the parent level and what lies below), each with its own consumer. */
function subscriptionCost(filter: string): number {
  return filter.endsWith('#') ? 2 : 1;
}

/**
 * Per subscription, the deliveries a node sends before it waits for their acknowledgements: the
 * session bound shared among the subscriptions of the user with the most (an aggregator host: one
 * per group, plus its announcements), where NATS's own default (1024) would throttle a large
 * group's backlog. Each subscription is a consumer of its own that delivers in stream order; an
 * aggregator reads its group through one (host/aggregator/backlog.ts), so this bounds its pace, not
 * its order.
 */
export function natsMaxAckPending(acl: Acl): number {
  const most = Math.max(1, ...[...acl.values()].map((p) => [...p.subscribe].reduce((n, f) => n + subscriptionCost(f), 0)));
  if (most > SESSION_ACK_PENDING_BOUND)
    fail('bad-config', `on NATS a party may hold at most ${SESSION_ACK_PENDING_BOUND} subscriptions; one here holds ${most}`);
  return Math.floor(SESSION_ACK_PENDING_BOUND / most);
}

const quote = (text: string) => JSON.stringify(text);
const list = (items: Iterable<string>) => `[${[...items].map(quote).join(', ')}]`;

function userEntry(user: string, hash: string, acl: Acl): string {
  const p = acl.get(user) ?? { publish: new Set<string>(), subscribe: new Set<string>() };
  const subscribe = [...p.subscribe].map(natsSubject);
  // A QoS 1 subscription's deliveries (see above).
  if (subscribe.length > 0) subscribe.push('$MQTT.sub.>');
  return [
    `      { user: ${quote(user)}, password: ${quote(hash)}, allowed_connection_types: ["MQTT"],`,
    `        permissions: { publish: { allow: ${list([...p.publish].map(natsSubject))} }, subscribe: { allow: ${list(subscribe)} } } }`,
  ].join('\n');
}

function refusePlain(what: string, host: string): void {
  if (!isLoopbackHost(host))
    fail('plain-off-loopback', `the NATS ${what} on ${host} would be reachable beyond loopback without TLS; use mqtts:// broker URLs`);
}

function tlsBlock(tls: NatsTlsFiles, indent: string): string[] {
  return [
    `${indent}tls {`,
    `${indent}  cert_file: ${quote(tls.certFile)}`,
    `${indent}  key_file: ${quote(tls.keyFile)}`,
    `${indent}  ca_file: ${quote(tls.caFile)}`,
    `${indent}  timeout: 5`,
    `${indent}}`,
  ];
}

export function natsNodeConf(o: NatsNodeConfOptions): string {
  if (o.nodes.length < NATS_MQTT_REPLICAS)
    fail(
      'bad-config',
      `a NATS cluster of ${o.nodes.length} nodes cannot keep ${NATS_MQTT_REPLICAS} replicas: give at least ${NATS_MQTT_REPLICAS}`,
    );
  if (!o.tls) {
    refusePlain('MQTT listener', o.node.mqtt.host);
    for (const n of o.nodes) refusePlain('route', n.route.host);
  }
  const routeUrl = (n: NatsNode) =>
    `nats-route://${encodeURIComponent(o.routeUser.user)}:${encodeURIComponent(o.routeUser.password)}@${n.route.host}:${n.route.port}`;
  return [
    `server_name: ${quote(o.node.name)}`,
    // The native NATS port: no party uses it (every user is MQTT only); on loopback, any free port.
    'host: "127.0.0.1"',
    'port: -1',
    // The embedded broker's and mosquitto's bound: a report is far below it.
    'max_payload: 1048576',
    `jetstream { store_dir: ${quote(o.storeDir)} }`,
    'cluster {',
    `  name: ${NATS_CLUSTER_NAME}`,
    `  host: ${quote(o.node.route.host)}`,
    `  port: ${o.node.route.port}`,
    `  authorization { user: ${quote(o.routeUser.user)}, password: ${quote(o.routeUser.password)}, timeout: 5 }`,
    ...(o.tls ? tlsBlock(o.tls, '  ') : []),
    `  routes: [${o.nodes
      .filter((n) => n.name !== o.node.name)
      .map((n) => quote(routeUrl(n)))
      .join(', ')}]`,
    '}',
    'mqtt {',
    `  host: ${quote(o.node.mqtt.host)}`,
    `  port: ${o.node.mqtt.port}`,
    ...(o.tls ? tlsBlock(o.tls, '  ') : []),
    `  stream_replicas: ${NATS_MQTT_REPLICAS}`,
    // A session's subscriptions too: an R1 consumer dies with its node, and the session resumed on
    // another node gets nothing until that node is back (measured: test/pipeline/outage.test.ts).
    `  consumer_replicas: ${NATS_MQTT_REPLICAS}`,
    `  max_ack_pending: ${o.maxAckPending}`,
    '}',
    'accounts {',
    `  ${NATS_ACCOUNT}: {`,
    '    jetstream: enabled',
    '    users: [',
    [...o.users].map(([user, hash]) => userEntry(user, hash, o.acl)).join(',\n'),
    '    ]',
    '  }',
    '}',
    '',
  ].join('\n');
}
