/** A plain aedes broker on a random local port that can be stopped and started again on the same port. */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface TestBroker {
  url: string;
  port: number;
  /** Drops every connection and stops listening: what a meter sees when its broker goes away. */
  stop(): Promise<void>;
  /** Listens again on the same port (a fresh broker: no sessions survive). */
  start(): Promise<void>;
  close(): Promise<void>;
  /** Clients that completed a connection, over the broker's whole life. */
  readonly connections: number;
}

export async function startTestBroker(): Promise<TestBroker> {
  let broker: Aedes | undefined;
  let server: Server | undefined;
  let port = 0;
  const sockets = new Set<Socket>();
  let connections = 0;

  async function start() {
    broker = await Aedes.createBroker();
    const b = broker;
    b.on('client', () => {
      connections += 1;
    });
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      b.handle(socket);
    });
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as { port: number }).port;
  }

  async function stop() {
    const s = server;
    const b = broker;
    server = undefined;
    broker = undefined;
    for (const socket of sockets) socket.destroy();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    if (b) await new Promise<void>((resolve) => b.close(() => resolve()));
  }

  await start();
  return {
    get url() {
      return `mqtt://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get connections() {
      return connections;
    },
    stop,
    start,
    close: stop,
  };
}
