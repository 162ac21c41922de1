/**
 * The meter's MQTT port on Node (MQTT.js): used for meters run directly in Node and, through the
 * bridge, for meters inside XS. One client per connect(); no automatic reconnection, because the
 * firmware owns reconnection and backoff.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttHandlers, MqttPort } from '../../firmware/platform/port.ts';
import { brokerUrlAt } from '../../firmware/config/broker-url.ts';
import { derHexToPem } from '../tls/certificates.ts';

export interface MqttEndpoint {
  url: string;
  /** A tier's brokers (the meter's broker.urls): each connect() after the first dials the next, as on the device. */
  urls?: readonly string[];
  clientId: string;
  username?: string;
  password?: string;
  /** mqtts://: the CA certificate (DER hex, as the meter's configuration holds it), the only one trusted. */
  ca?: string;
}

export class NodeMqttPort implements MqttPort {
  private client: MqttClient | undefined;
  private ready = false;
  private readonly inFlight = new Set<Promise<void>>();
  private attempts = 0;

  constructor(private readonly endpoint: MqttEndpoint) {}

  connect(handlers: MqttHandlers): void {
    this.client?.end(true);
    const { clientId, username, password, ca } = this.endpoint;
    const client = mqtt.connect(brokerUrlAt(this.endpoint, this.attempts++), {
      clientId,
      username,
      password,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...(ca === undefined ? {} : { ca: derHexToPem(ca), rejectUnauthorized: true }),
    });
    this.client = client;
    let closed = false;
    client.on('connect', () => {
      if (this.client !== client) return;
      this.ready = true;
      handlers.onConnect();
    });
    client.on('message', (topic, payload) => {
      if (this.client === client) handlers.onMessage(topic, new Uint8Array(payload));
    });
    // Errors (refused credentials, unreachable broker) end in 'close'; that is the one signal.
    client.on('error', () => {});
    client.on('close', () => {
      if (closed) return;
      closed = true;
      if (this.client === client) {
        this.ready = false;
        this.client = undefined;
      }
      client.end(true);
      handlers.onDisconnect();
    });
  }

  disconnect(): void {
    const client = this.client;
    this.client = undefined;
    this.ready = false;
    client?.end(true);
  }

  publish(topic: string, payload: Uint8Array, retain = false): boolean {
    if (!this.client || !this.ready) return false;
    const client = this.client;
    const done = new Promise<void>((resolve) => client.publish(topic, Buffer.from(payload), { qos: 1, retain }, () => resolve()));
    this.inFlight.add(done);
    done.then(() => this.inFlight.delete(done));
    return true;
  }

  subscribe(topic: string): void {
    this.client?.subscribe(topic, { qos: 1 });
  }

  /** Resolves when every publish so far was acknowledged by the broker (or failed). */
  async flushed(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }
}
