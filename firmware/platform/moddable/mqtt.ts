/**
 * The port's MQTT session on Moddable, over the SDK's classic `mqtt` client. That client never
 * reconnects and ignores PUBACK, so reports go out at QoS 0 and delivery rests on the firmware:
 * the outbox, application acknowledgements, resends after ackTimeoutSeconds, and reconnection
 * with exponential backoff and jitter (firmware/meter/). Plain TCP only (DEVICE_TRANSPORTS, which
 * the configuration is checked against at boot): mqtts would need the SDK's TLS socket.
 */
import Client from 'mqtt';
import { DEVICE_TRANSPORTS, parseBrokerUrl } from '../../config/broker-url.ts';
import type { BrokerConfig } from '../../config/schema.ts';
import { fail } from '../../errors.ts';
import type { MqttHandlers, MqttPort } from '../port.ts';

/** Keepalive, so that a dead TCP connection is noticed within about 1.5 times this. */
const KEEPALIVE_MS = 30_000;

export class ModdableMqtt implements MqttPort {
  private client: Client | undefined;
  private ready = false;

  constructor(
    private readonly broker: BrokerConfig,
    private readonly clientId: string,
  ) {}

  connect(handlers: MqttHandlers): void {
    this.drop();
    const { host, port } = parseBrokerUrl(this.broker.url, 'broker.url', DEVICE_TRANSPORTS, (field, explanation) =>
      fail('invalid-config', `${field}: ${explanation}`),
    );
    let client: Client;
    try {
      client = new Client({
        host,
        port,
        id: this.clientId,
        user: this.broker.username,
        password: this.broker.password,
        timeout: KEEPALIVE_MS,
      });
    } catch {
      handlers.onDisconnect();
      return;
    }
    this.client = client;
    client.onReady = () => {
      this.ready = true;
      handlers.onConnect();
    };
    client.onMessage = (topic, data) => handlers.onMessage(topic, new Uint8Array(data));
    client.onClose = () => {
      if (this.client !== client) return;
      this.drop();
      handlers.onDisconnect();
    };
  }

  disconnect(): void {
    this.drop();
  }

  publish(topic: string, payload: Uint8Array): boolean {
    if (!this.client || !this.ready) return false;
    try {
      this.client.publish(topic, payload.slice().buffer as ArrayBuffer);
      return true;
    } catch {
      return false;
    }
  }

  subscribe(topic: string): void {
    try {
      this.client?.subscribe(topic);
    } catch {
      // The close notification follows; the firmware reconnects and subscribes again.
    }
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    this.ready = false;
    client?.close();
  }
}
