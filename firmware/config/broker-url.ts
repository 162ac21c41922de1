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
/**
 * Fresh RegExps per use (XS keeps a module-level one in flash, read-only). The URL is cut apart by
 * hand rather than by one pattern: Espruino's RegExp has no counted quantifier, optional group or
 * non-capturing group, and its parser ends a literal at a `/` inside a class, so each pattern here
 * is a bare class with `+` anchored at both ends.
 */
const schemeForm = (): RegExp => /^[a-z]+$/;
// The escapes are for Espruino's parser, which would end the literal at a bare `/` in the class.
// eslint-disable-next-line no-useless-escape
const nameForm = (): RegExp => /^[^\s\/:@\[\]]+$/;
const ipv6Form = (): RegExp => /^\[[0-9A-Fa-f:.]+\]$/;
const digitsForm = (): RegExp => /^[0-9]+$/;
const MAX_PORT_DIGITS = 5;

/** The scheme, host and port text (undefined: none given) of `scheme://host[:port][/]`, or undefined. */
function splitUrl(value: string): { scheme: string; host: string; port?: string } | undefined {
  const schemeEnd = value.indexOf('://');
  if (schemeEnd < 0) return undefined;
  const scheme = value.slice(0, schemeEnd);
  let rest = value.slice(schemeEnd + 3);
  if (rest.slice(-1) === '/') rest = rest.slice(0, -1);
  const hostEnd = rest.charAt(0) === '[' ? rest.indexOf(']') + 1 : rest.indexOf(':') < 0 ? rest.length : rest.indexOf(':');
  if (hostEnd <= 0) return undefined;
  const host = rest.slice(0, hostEnd);
  const after = rest.slice(hostEnd);
  if (!schemeForm().test(scheme) || !(nameForm().test(host) || ipv6Form().test(host))) return undefined;
  if (after === '') return { scheme, host };
  const port = after.slice(1);
  if (after.charAt(0) !== ':' || port.length > MAX_PORT_DIGITS || !digitsForm().test(port)) return undefined;
  return { scheme, host, port };
}

export function parseBrokerUrl(value: unknown, field: string, transports: BrokerTransports, refuse: Refuse): BrokerAddress {
  const parts = typeof value === 'string' ? splitUrl(value) : undefined;
  if (!parts) return refuse(field, 'must look like mqtt://host:port (host a name, an IPv4 address or [IPv6])');
  const scheme = parts.scheme as BrokerScheme;
  if (!transports.schemes.includes(scheme))
    refuse(field, `${scheme}:// is not supported by ${transports.where} (${transports.schemes.map((s) => `${s}://`).join(', ')} only)`);
  const port = parts.port === undefined ? DEFAULT_PORTS[scheme] : Number(parts.port);
  if (port < 1 || port > 65_535) refuse(field, `port ${port} is not in 1..65535`);
  return { scheme, host: parts.host, port };
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
