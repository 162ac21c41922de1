/**
 * How a host role connects to the broker: its own user name, a fixed client id and a persistent
 * session (clean: false, QoS 1), so messages published while it is down wait for it. Over
 * mqtts:// it trusts the deployment's CA alone (not the system's), and checks that the broker's
 * certificate names the host it dialled.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { MeterveilError } from '../../firmware/errors.ts';

export interface RoleConnection {
  /** The broker dialled first. */
  url: string;
  /**
   * The brokers of a tier (config broker.urls, the nodes of a NATS cluster): after a connection
   * fails or is lost MQTT.js dials the next one, from `url` on in this order.
   */
  urls?: readonly string[];
  username: string;
  password: string;
  clientId?: string;
  /** A persistent session; off for one-shot publishers. */
  persistent?: boolean;
  /** mqtts://: the CA certificate (PEM) the broker's certificate must chain to. */
  ca?: string;
}

/** Node's codes for a TLS peer whose certificate does not verify. */
const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ALTNAME/;

export function isCertificateError(e: Error): boolean {
  return CERTIFICATE_ERROR.test((e as NodeJS.ErrnoException).code ?? '');
}

/** Returns at once so handlers can be attached before queued messages arrive; await `connected(client)`. */
export function connectRole(c: RoleConnection): MqttClient {
  const servers = serversFrom(c.url, c.urls);
  return mqtt.connect(c.url, {
    ...(servers.length > 1 ? { servers } : {}),
    username: c.username,
    password: c.password,
    clientId: c.clientId ?? c.username,
    clean: !(c.persistent ?? true),
    protocolVersion: 4,
    reconnectPeriod: 500,
    connectTimeout: 10_000,
    keepalive: 30,
    resubscribe: true,
    // MQTT.js traces every packet through the debug module, a few calls each: a no-op unless DEBUG asks for it.
    ...(process.env.DEBUG ? {} : { log: () => {} }),
    ...(c.ca === undefined ? {} : { ca: c.ca, rejectUnauthorized: true }),
  });
}

/**
 * MQTT.js's `servers`, `first` first and the others after it in their order. MQTT.js keeps the TLS
 * server name of its first host for the others (a name, not an address): the broker certificate
 * provision issues names every node, so each still verifies against the deployment CA.
 */
function serversFrom(first: string, urls: readonly string[] = [first]): { host: string; port: number; protocol: 'mqtt' | 'mqtts' }[] {
  const at = Math.max(0, urls.indexOf(first));
  const ordered = urls.includes(first) ? [...urls.slice(at), ...urls.slice(0, at)] : [first, ...urls];
  return ordered.map((url) => {
    const { hostname, port, protocol } = new URL(url);
    const secure = protocol === 'mqtts:';
    return {
      host: hostname.replace(/^\[|\]$/g, ''),
      port: port === '' ? (secure ? 8883 : 1883) : Number(port),
      protocol: secure ? 'mqtts' : 'mqtt',
    };
  });
}

export function connected(client: MqttClient, timeoutMs = 15_000): Promise<void> {
  if (client.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new MeterveilError('broker-unreachable', `could not connect to the broker in ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onConnect = () => {
      cleanup();
      resolve();
    };
    const onError = (e: Error) => {
      if (/Not authorized|Bad username/i.test(e.message)) {
        cleanup();
        reject(new MeterveilError('broker-login-refused', e.message));
      } else if (isCertificateError(e)) {
        cleanup();
        reject(new MeterveilError('broker-certificate-refused', e.message));
      }
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('connect', onConnect);
      client.off('error', onError);
    };
    client.on('connect', onConnect);
    client.on('error', onError);
  });
}

/** How long a stopping role waits for the broker to acknowledge what it has in flight. */
const DRAIN_MS = 5_000;
/** How long the forced end may take to call back before the connection counts as ended (#710). */
const FORCED_END_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ends the connection once what is in flight is acknowledged, or after drainMs. MQTT.js's own
 * graceful end, end(false), waits for an 'outgoingEmpty' event that MQTT.js 5 never emits
 * (mqttjs/MQTT.js#952): a role stopping with a publish or a subscription unacknowledged (one the
 * broker refused, or a broker gone) never ended, and kept its process alive. Its forced end may
 * not call back when the socket is already closed (#710), so that too has a deadline.
 */
export async function endClient(client: MqttClient, drainMs = DRAIN_MS): Promise<void> {
  const deadline = Date.now() + drainMs;
  while (client.connected && Object.keys(client.outgoing).length > 0 && Date.now() < deadline) await sleep(10);
  // With nothing in flight the graceful end sends DISCONNECT, which tells the broker the session
  // is no longer being served: NATS went on delivering a persistent session's queue to a socket
  // closed without it, and redelivered it only after its ack wait.
  const force = !client.connected || Object.keys(client.outgoing).length > 0;
  let forcedEnd: NodeJS.Timeout | undefined;
  await Promise.race([
    new Promise<void>((resolve) => client.end(force, {}, () => resolve())),
    new Promise<void>((resolve) => (forcedEnd = setTimeout(resolve, FORCED_END_MS))),
  ]);
  // Left pending, it would hold a stopping role's process open for its second.
  clearTimeout(forcedEnd);
}
