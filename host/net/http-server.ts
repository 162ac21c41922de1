/**
 * The one way a role serves HTTP: the provider's API and every role's metrics listener. A host
 * that is not loopback is refused here, in one place, until the listener can require TLS and a
 * bearer token there; plain HTTP stays on the machine.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { fail } from '../../firmware/errors.ts';
import { listen } from './listen.ts';

export interface HttpAddress {
  host: string;
  port: number;
}

export interface HttpListener {
  server: Server;
  /** http://host:port, with the port actually bound (the address may ask for port 0). */
  url: string;
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
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
  if (!isLoopback(address.host))
    fail('listen-off-loopback', `${what} on ${address.host}: plain HTTP is served on a loopback address only (127.0.0.1, ::1)`);
  const server = createServer(handle);
  await listen(server, address.port, address.host);
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  return {
    server,
    url: `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
