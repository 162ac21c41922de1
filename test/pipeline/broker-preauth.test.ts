/**
 * What a connection that has not authenticated can make the embedded broker hold, over raw TCP
 * sockets against the real broker: a fixed header declaring 256 MiB (the largest MQTT length)
 * before CONNECT closes the connection at once, before the body is read, and so does an oversized
 * CONNECT; a connection that never sends CONNECT is closed after the connect timeout. A real role
 * still connects and publishes.
 */
import test from 'ava';
import { connect, type Socket } from 'node:net';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';

const LARGEST_LENGTH = [0xff, 0xff, 0xff, 0x7f]; // 268,435,455 bytes: 256 MiB less one
const PUBLISH_QOS0 = 0x30;
const CONNECT = 0x10;

async function brokerFor(t: import('ava').ExecutionContext, connectTimeoutMs: number) {
  const port = await freePort();
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port,
    users: new Map([['meter-1', 'secret']]),
    acl: new Map([['meter-1', { publish: new Set(['t/meter-1']), subscribe: new Set<string>() }]]),
    connectTimeoutMs,
  });
  t.teardown(() => broker.close());
  return { broker, port };
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Resolves with the milliseconds until the broker closed the socket, or undefined if it did not within `withinMs`. */
function closedWithin(socket: Socket, withinMs: number): Promise<number | undefined> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, withinMs);
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

test('a 256 MiB PUBLISH header before CONNECT closes the connection before its body is buffered', async (t) => {
  const { broker, port } = await brokerFor(t, 60_000);
  const socket = await open(port);
  const closed = closedWithin(socket, 5000);
  socket.write(Buffer.from([PUBLISH_QOS0, ...LARGEST_LENGTH]));
  // The body starts streaming in; a broker that waits for it would hold all of it.
  const chunk = Buffer.alloc(1024 * 1024, 0x61);
  for (let i = 0; i < 16 && !socket.destroyed; i++) socket.write(chunk);
  t.not(await closed, undefined, 'closed by the broker');
  t.is(broker.refusals.get('connect-expected'), 1);
});

test('a CONNECT whose header declares 256 MiB is refused by its length alone', async (t) => {
  const { broker, port } = await brokerFor(t, 60_000);
  const socket = await open(port);
  const closed = closedWithin(socket, 5000);
  socket.write(Buffer.from([CONNECT, ...LARGEST_LENGTH]));
  t.not(await closed, undefined, 'closed by the broker');
  t.is(broker.refusals.get('oversized-packet'), 1);
});

test('a connection that never sends CONNECT is closed after the connect timeout; a real client still gets in', async (t) => {
  const { broker, port } = await brokerFor(t, 1000);
  const idle = await open(port);
  t.not(await closedWithin(idle, 10_000), undefined, 'closed by the broker');
  t.is(broker.refusals.get('connect-timeout'), 1);

  const client = connectRole({ url: `mqtt://127.0.0.1:${port}`, username: 'meter-1', password: 'secret', persistent: false });
  await connected(client);
  await client.publishAsync('t/meter-1', Buffer.from('x'), { qos: 1 });
  await endClient(client);
  t.is(broker.refusals.get('publish-not-allowed'), undefined);
});
