/**
 * The port's MQTT session on Moddable, over the SDK's classic `mqtt` client. That client never
 * reconnects and ignores PUBACK, so delivery to the aggregator rests on the firmware: the outbox,
 * application acknowledgements, resends after ackTimeoutSeconds, and reconnection with
 * exponential backoff and jitter (firmware/meter/). Reports still go out at QoS 1: a broker keeps
 * QoS 1 messages for an offline persistent subscriber and drops QoS 0 ones (MQTT 3.1.1, 3.1.2.4;
 * mosquitto queues QoS 0 only with queue_qos0_messages), so an aggregator that was away gets the
 * reports of its absence when it comes back instead of waiting for the meters' resends. For
 * mqtts:// the client runs over the SDK's SecureSocket (TLS 1.2) trusting only the deployment CA
 * of broker.ca, and the SDK checks that the broker's certificate names the host dialled (a DNS
 * name or an IPv4 address); the SDK verifies a chain, so the broker sends its certificate with
 * the CA's (host/tls/certificates.ts). With several broker URLs (a NATS cluster's nodes) each
 * connection after the first dials the next one, so a meter whose node goes away is on another
 * node at its next reconnection, with the backoff of firmware/meter/.
 */
import Client from 'mqtt';
import SecureSocket from 'securesocket';
import { hexToBytes } from '../../bytes.ts';
import { brokerUrlAt, DEVICE_TRANSPORTS, parseBrokerUrl } from '../../config/broker-url.ts';
import type { BrokerConfig } from '../../config/schema.ts';
import { fail } from '../../errors.ts';
import type { MqttHandlers, MqttPort } from '../port.ts';

/** Keepalive, so that a dead TCP connection is noticed within about 1.5 times this. */
const KEEPALIVE_MS = 30_000;

/**
 * The client numbers its packets with a counter whose low 16 bits it sends, so its 65,535th
 * packet after the CONNECT would carry id 0, which MQTT forbids (3.1.1, 2.3.1) and a broker
 * answers by closing the connection. A session ends a little before that and a new one starts.
 */
const PACKETS_PER_SESSION = 65_000;

export class ModdableMqtt implements MqttPort {
  private client: Client | undefined;
  private ready = false;
  private packets = 0;
  private attempts = 0;
  private handlers: MqttHandlers | undefined;

  constructor(
    private readonly broker: BrokerConfig,
    private readonly clientId: string,
  ) {}

  connect(handlers: MqttHandlers): void {
    this.drop();
    this.handlers = handlers;
    // Each connection after the first follows a lost or failed one: the next broker of the tier.
    const url = brokerUrlAt(this.broker, this.attempts++);
    const { scheme, host, port } = parseBrokerUrl(url, 'broker.url', DEVICE_TRANSPORTS, (field, explanation) =>
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
        ...(scheme === 'mqtts' ? { Socket: SecureSocket, secure: this.secure() } : {}),
      });
    } catch {
      handlers.onDisconnect();
      return;
    }
    this.client = client;
    this.packets = 0;
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

  publish(topic: string, payload: Uint8Array, retain = false): boolean {
    if (!this.client || !this.ready) return false;
    if (++this.packets >= PACKETS_PER_SESSION) {
      this.drop();
      this.handlers?.onDisconnect();
      return false;
    }
    try {
      this.client.publish(topic, payload.slice().buffer as ArrayBuffer, { quality: 1, retain });
      return true;
    } catch {
      return false;
    }
  }

  subscribe(topic: string): void {
    this.packets++;
    try {
      this.client?.subscribe(topic);
    } catch {
      // The close notification follows; the firmware reconnects and subscribes again.
    }
  }

  /** TLS 1.2 (0x0303), the one version the SDK's TLS speaks; the CA's DER as its one trusted certificate. */
  private secure(): Record<string, unknown> {
    // The configuration's validation requires broker.ca for mqtts://.
    return { protocolVersion: 0x0303, certificate: hexToBytes(this.broker.ca!, 'broker.ca').slice().buffer };
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    this.ready = false;
    client?.close();
  }
}
