/**
 * A role's connection ends when the role stops, whatever state it is in: with a subscription the
 * broker refused (the embedded broker closes the connection, and MQTT.js reconnects and asks
 * again), and with a broker gone; what it has in flight while connected still reaches the broker.
 */
import test from 'ava';
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

test('a client whose subscription the broker keeps refusing ends, and stops reconnecting', async (t) => {
  const { broker, login } = await brokerFor(t);
  const client = login('meter-1');
  await connected(client);
  client.subscribe('t/other', { qos: 1 });
  await until(() => (broker.refusals.get('subscribe-not-allowed') ?? 0) >= 3, 'the subscription refused on three connections');
  // Ended while asking again: connected with the subscription in flight, or between connections.
  await until(() => client.connected && Object.keys(client.outgoing).length > 0, 'the subscription in flight again');
  t.is(await within(endClient(client, 1000), 5000), 'done');
  const refused = broker.refusals.get('subscribe-not-allowed');
  await new Promise((r) => setTimeout(r, 1500));
  t.is(broker.refusals.get('subscribe-not-allowed'), refused, 'no connection after the end');
  t.is(broker.connectedClients(), 0);
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
