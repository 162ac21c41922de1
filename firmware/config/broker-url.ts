/**
 * The broker URL both sides accept: `scheme://host[:port][/]`, host a name, an IPv4 address or an
 * IPv6 address in brackets, no user, path or query. Which schemes work depends on the MQTT client
 * underneath, so each caller says which transports it has; a scheme the client cannot speak is
 * refused when the configuration is checked, not later when the meter tries to connect.
 */
import type { Refuse } from './rules.ts';

export type BrokerScheme = 'mqtt' | 'mqtts' | 'ws' | 'wss';

export interface BrokerTransports {
  /** Who speaks these schemes, for the refusal: "the device", "the host roles". */
  where: string;
  schemes: readonly BrokerScheme[];
}

export interface BrokerAddress {
  scheme: BrokerScheme;
  host: string;
  port: number;
}

/** MQTT.js: the host's roles and the simulated meters (xs-sim and Node) connect through it. */
export const MQTTJS_TRANSPORTS: BrokerTransports = { where: 'MQTT.js', schemes: ['mqtt', 'mqtts', 'ws', 'wss'] };

/**
 * The Moddable port (platform/moddable/mqtt.ts) runs the SDK's classic MQTT client over a TCP
 * socket, or over the SDK's TLS socket for mqtts:// (TLS 1.2, the deployment CA from broker.ca).
 * WebSocket would need the SDK's WebSocket client, not wired.
 */
export const DEVICE_TRANSPORTS: BrokerTransports = { where: 'the device', schemes: ['mqtt', 'mqtts'] };

const DEFAULT_PORTS: Record<BrokerScheme, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };
/** A fresh RegExp per use: the firmware is preloaded, and XS's exec writes its match state into the RegExp object, which a module-level one keeps in flash, read-only (lin: a segfault). */
const urlForm = (): RegExp => /^([a-z]+):\/\/([^\s/:@[\]]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?\/?$/;

export function parseBrokerUrl(value: unknown, field: string, transports: BrokerTransports, refuse: Refuse): BrokerAddress {
  const match = typeof value === 'string' ? urlForm().exec(value) : null;
  if (!match) return refuse(field, 'must look like mqtt://host:port (host a name, an IPv4 address or [IPv6])');
  const scheme = match[1] as BrokerScheme;
  if (!transports.schemes.includes(scheme))
    refuse(field, `${scheme}:// is not supported by ${transports.where} (${transports.schemes.map((s) => `${s}://`).join(', ')} only)`);
  const port = match[3] === undefined ? DEFAULT_PORTS[scheme] : Number(match[3]);
  if (port < 1 || port > 65_535) refuse(field, `port ${port} is not in 1..65535`);
  return { scheme, host: match[2], port };
}

/**
 * The URL of a meter's `attempt`-th connection (0 first): its brokers in turn, so that each
 * connection after one that failed or was lost dials the next node, and back to the first after
 * the last. A single broker is dialled every time.
 */
export function brokerUrlAt(broker: { url: string; urls?: readonly string[] }, attempt: number): string {
  const urls = broker.urls ?? [broker.url];
  return urls[attempt % urls.length];
}
