/**
 * The port's MQTT session over the EspruinoDocs `MQTT` module on `require("net")`. The module
 * never reconnects, sends every session clean and reports no packet id, so delivery rests on the
 * firmware as on Moddable: the outbox, the aggregators' acknowledgements, resends and reconnection
 * with backoff; with several broker URLs each connection after the first dials the next. Payloads travel as binary strings (the module sends `message.toString()`, which
 * for a Uint8Array would be the text "1,2,250"). Plain MQTT only: Espruino's TLS needs a board
 * with it built in, and loopback or a trusted link in front of the broker otherwise.
 */
import { brokerUrlAt, parseBrokerUrl, type BrokerTransports } from '../../config/broker-url.ts';
import type { BrokerConfig } from '../../config/schema.ts';
import { fail } from '../../errors.ts';
import type { Clock, MqttHandlers, MqttPort } from '../port.ts';
import { binaryString, bytesOfBinaryString, mqttModule, type EspruinoMqttClient } from './api.ts';

/** The module speaks plain MQTT over `net`. */
export const ESPRUINO_TRANSPORTS: BrokerTransports = { where: 'Espruino', schemes: ['mqtt'] };

const KEEPALIVE_SECONDS = 60;
const QOS = 1;
/** The module waits for CONNACK only once the socket is up; a socket that never comes up is given up here. */
const CONNECT_TIMEOUT_MS = 15_000;

export function espruinoMqtt(broker: BrokerConfig, clientId: string, clock: Clock): MqttPort {
  let attempts = 0;
  let client: EspruinoMqttClient | undefined;
  let up = false;
  /** Each session's handlers are called only while it is the current one. */
  let session = 0;
  const drop = () => {
    session++;
    up = false;
    const old = client;
    client = undefined;
    if (old) old.disconnect();
  };
  return {
    connect(handlers: MqttHandlers) {
      drop();
      const mine = session;
      const current = () => mine === session;
      const lost = () => {
        if (!current()) return;
        drop();
        handlers.onDisconnect();
      };
      // Each connection after the first follows a lost or failed one: the next broker of the tier.
      const { host, port } = parseBrokerUrl(brokerUrlAt(broker, attempts++), 'broker.url', ESPRUINO_TRANSPORTS, (field, explanation) =>
        fail('invalid-config', `${field}: ${explanation}`),
      );
      const created = mqttModule().create(host, {
        port,
        client_id: clientId,
        username: broker.username || '',
        password: broker.password || '',
        keep_alive: KEEPALIVE_SECONDS,
      });
      client = created;
      created.on('connected', () => {
        if (!current()) return;
        up = true;
        handlers.onConnect();
      });
      created.on('disconnected', lost);
      created.on('error', lost);
      created.on('publish', (message) => {
        if (current()) handlers.onMessage(message.topic, bytesOfBinaryString(message.message));
      });
      clock.setTimer(() => {
        if (!up) lost();
      }, CONNECT_TIMEOUT_MS);
      try {
        created.connect();
      } catch {
        // A closed port throws at once: report it as a failed connection, after this call returns.
        clock.setTimer(lost, 0);
      }
    },
    disconnect() {
      drop();
    },
    publish(topic, payload) {
      if (!up || !client) return false;
      client.publish(topic, binaryString(payload), { qos: QOS });
      return true;
    },
    subscribe(topic) {
      if (up && client) client.subscribe(topic, { qos: QOS });
    },
  };
}
