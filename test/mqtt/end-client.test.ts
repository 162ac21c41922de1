/**
 * A role's connection ends when the role stops, whatever state it is in: with a subscription and a
 * publish a stalled broker never acknowledges (MQTT.js's own graceful end waits for them for
 * ever), and with a broker gone; what it has in flight while connected still reaches the broker.
 */
import test from 'ava';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

async function brokerFor(t: import('ava').ExecutionContext) {
  const port = await freePort();
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port,
    users: new Map([
      ['meter-1', 'secret'],
      ['reader', 'secret'],
    ]),
    acl: new Map([
      ['meter-1', { publish: new Set(['t/meter-1']), subscribe: new Set<string>() }],
      ['reader', { publish: new Set<string>(), subscribe: new Set(['t/meter-1']) }],
    ]),
  });
  t.teardown(() => broker.close());
  const login = (username: string) => connectRole({ url: `mqtt://127.0.0.1:${port}`, username, password: 'secret', persistent: false });
  return { broker, login };
}

/** Resolves to how `promise` ended within `ms`: 'done', or 'pending' if it had not. */
const within = (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => 'done'), new Promise((resolve) => setTimeout(() => resolve('pending'), ms).unref())]);

/** A broker that lets a client in and then answers nothing: no SUBACK, no PUBACK, as one that stalls. */
async function stalledBroker(t: import('ava').ExecutionContext): Promise<number> {
  const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, 0x00]);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', () => socket.write(CONNACK_ACCEPTED));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

test('a client with a subscription and a publish the broker never acknowledges ends after the drain time', async (t) => {
  const port = await stalledBroker(t);
  const client = connectRole({ url: `mqtt://127.0.0.1:${port}`, username: 'meter-1', password: 'secret', persistent: false });
  await connected(client);
  client.subscribe('t/other', { qos: 1 });
  client.publish('t/meter-1', 'unacknowledged', { qos: 1 });
  t.is(Object.keys(client.outgoing).length, 2, 'both in flight');
  t.is(await within(endClient(client, 1000), 5000), 'done');
  t.false(client.connected);
});

test('a client whose broker went away ends at once', async (t) => {
  const { broker, login } = await brokerFor(t);
  const client = login('meter-1');
  await connected(client);
  await broker.close();
  client.publish('t/meter-1', 'in flight', { qos: 1 });
  t.is(await within(endClient(client, 1000), 5000), 'done');
});

test('what is in flight when a connected client ends reaches the broker first', async (t) => {
  const { login } = await brokerFor(t);
  const reader = login('reader');
  await connected(reader);
  const received: string[] = [];
  reader.on('message', (_topic, payload) => received.push(payload.toString()));
  await reader.subscribeAsync('t/meter-1', { qos: 1 });
  t.teardown(() => endClient(reader));
  const client = login('meter-1');
  await connected(client);
  for (let i = 0; i < 20; i++) client.publish('t/meter-1', `report ${i}`, { qos: 1 });
  await endClient(client);
  await until(() => received.length === 20, 'every report at the reader');
  t.deepEqual(
    received,
    Array.from({ length: 20 }, (_, i) => `report ${i}`),
  );
});

/** The timers the process holds now. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

test.serial('an ended client leaves no timer of its own behind', async (t) => {
  const { login } = await brokerFor(t);
  const before = timers();
  const client = login('meter-1');
  await connected(client);
  t.true(timers() > before, 'a connected client holds timers (its keepalive)');
  await endClient(client);
  // A timer left pending would hold a stopping role's process open until it fired.
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.true(timers() <= before, `${timers()} timers after the end, ${before} before the client`);
});
