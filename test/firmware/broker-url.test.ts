/**
 * The broker URL is cut apart by hand, because Espruino's RegExp has no counted quantifier,
 * optional group or non-capturing group (firmware/config/broker-url.ts): it must accept exactly
 * what the one pattern it replaces accepted, with the same parts. The pattern stays here as the
 * reference; the strings are built from pieces near every edge (brackets, colons, slashes, space,
 * a user part, ports of 0 to 6 digits).
 */
import test from 'ava';
import fc from 'fast-check';
import { MQTTJS_TRANSPORTS, parseBrokerUrl } from '../../firmware/config/broker-url.ts';

const REFERENCE = /^([a-z]+):\/\/([^\s/:@[\]]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?\/?$/;
const DEFAULT_PORTS: Record<string, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

function reference(url: string): { scheme: string; host: string; port: number } | undefined {
  const m = REFERENCE.exec(url);
  if (!m || !(m[1] in DEFAULT_PORTS)) return undefined;
  const port = m[3] === undefined ? DEFAULT_PORTS[m[1]] : Number(m[3]);
  return port < 1 || port > 65_535 ? undefined : { scheme: m[1], host: m[2], port };
}

function parsed(url: string): { scheme: string; host: string; port: number } | undefined {
  try {
    return parseBrokerUrl(url, 'broker.url', MQTTJS_TRANSPORTS, (field, explanation) => {
      throw new Error(`${field}: ${explanation}`);
    });
  } catch {
    return undefined;
  }
}

const piece = fc.constantFrom(
  'mqtt',
  'mqtts',
  'ws',
  'wss',
  'MQTT',
  'ftp',
  '://',
  ':/',
  ':',
  '/',
  '//',
  '[',
  ']',
  '[::1]',
  '[fe80::1%eth0]',
  '127.0.0.1',
  'broker.example',
  'a b',
  'user@',
  '@',
  '0',
  '1883',
  '65535',
  '65536',
  '123456',
  '08883',
  ' ',
  '\t',
  '?',
  'é',
);

test('the broker URL parse accepts what the reference pattern accepts, with the same scheme, host and port', (t) => {
  fc.assert(
    fc.property(fc.array(piece, { minLength: 1, maxLength: 7 }), (pieces) => {
      const url = pieces.join('');
      t.deepEqual(parsed(url), reference(url), url);
    }),
    { numRuns: 4000 },
  );
  // Forms the random pieces must not be trusted to reach.
  for (const url of [
    'mqtt://127.0.0.1:1883',
    'mqtts://broker.example:8883/',
    'mqtt://[::1]:1883',
    'ws://[::1]/',
    'mqtt://host:',
    'mqtt://:1883',
    'mqtt://[::1',
    'mqtt://host//',
    'mqtt://host:1883/x',
    'mqtt://us@host',
    'mqtt://host:0',
    'mqtt://host:99999',
  ])
    t.deepEqual(parsed(url), reference(url), url);
});
