/**
 * How a host role connects to the broker: its own user name, a fixed client id and a persistent
 * session (clean: false, QoS 1), so messages published while it is down wait for it.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { MeterveilError } from '../../firmware/errors.ts';

export interface RoleConnection {
  url: string;
  username: string;
  password: string;
  clientId?: string;
  /** A persistent session; off for one-shot publishers. */
  persistent?: boolean;
}

/** Returns at once so handlers can be attached before queued messages arrive; await `connected(client)`. */
export function connectRole(c: RoleConnection): MqttClient {
  return mqtt.connect(c.url, {
    username: c.username,
    password: c.password,
    clientId: c.clientId ?? c.username,
    clean: !(c.persistent ?? true),
    protocolVersion: 4,
    reconnectPeriod: 500,
    connectTimeout: 10_000,
    keepalive: 30,
    resubscribe: true,
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

export function endClient(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}
