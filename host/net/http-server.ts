/**
 * The one way a role serves HTTP: the provider's API and every role's metrics listener. Plain
 * HTTP stays on the machine: a host that is not loopback is refused here, in one place, unless
 * the listener has a certificate (the provider's API with http.tls), and is then HTTPS only.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { fail } from '../../firmware/errors.ts';
import type { PemPair } from '../tls/certificates.ts';
import { listen } from './listen.ts';
import { isLoopbackHost } from './loopback.ts';

export interface HttpAddress {
  host: string;
  port: number;
  /** HTTPS (TLS 1.2 at least) with this certificate chain and key. */
  tls?: PemPair;
}

export interface HttpListener {
  server: Server;
  /** http(s)://host:port, with the port actually bound (the address may ask for port 0). */
  url: string;
  close(): Promise<void>;
}

/** host:port, or [v6]:port, as the command line takes a listening address. */
export function parseHttpAddress(text: string, what: string): HttpAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65_535) fail('bad-argument', `${what} must be host:port (or [v6-address]:port), port 0..65535`);
  return { host: m[1] ?? m[2], port };
}

export async function serveHttp(
  address: HttpAddress,
  what: string,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<HttpListener> {
  const { tls } = address;
  if (!tls && !isLoopbackHost(address.host))
    fail('plain-off-loopback', `${what} on ${address.host}: plain HTTP is served on a loopback address only (127.0.0.1, ::1)`);
  const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, handle) : createServer(handle);
  await listen(server, address.port, address.host);
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  return {
    server,
    url: `${tls ? 'https' : 'http'}://${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
