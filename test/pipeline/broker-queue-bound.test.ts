/**
 * The embedded broker bounds each session's queue as mosquitto's max_queued_messages does: past
 * the bound a message is dropped for that session alone and counted (`queue-full`), and what a
 * live client acknowledges leaves its count, so a reader that keeps up never meets the bound. The
 * bound covers the session that queues the most through the outage bound: an aggregator's
 * meters, or the provider's aggregates and feeder readings of every group.
 */
import test, { type ExecutionContext } from 'ava';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { queuedMessagesBound } from '../../host/broker/mosquitto.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

const REPORTS = 't/reports/m1';
const BOUND = 20;
const users = new Map([
  ['meter-m1', 'meter secret'],
  ['aggregator-street', 'aggregator secret'],
  ['aggregator-other', 'other secret'],
]);
const reader = { publish: new Set<string>(), subscribe: new Set([REPORTS]) };
const acl = new Map([
  ['meter-m1', { publish: new Set([REPORTS]), subscribe: new Set<string>() }],
  ['aggregator-street', reader],
  ['aggregator-other', reader],
]);

async function setup(t: ExecutionContext) {
  const port = await freePort();
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port, users, acl, maxQueuedMessages: BOUND });
  t.teardown(() => broker.close());
  const login = (username: string, persistent: boolean) => {
    const client = connectRole({ url: `mqtt://127.0.0.1:${port}`, username, password: users.get(username)!, persistent });
    t.teardown(() => endClient(client));
    return client;
  };
  const subscribed = async (username: string) => {
    const client = login(username, true);
    const received: string[] = [];
    client.on('message', (_topic, payload) => received.push(payload.toString()));
    await connected(client);
    await client.subscribeAsync(REPORTS, { qos: 1 });
    return { client, received };
  };
  const meter = login('meter-m1', false);
  await connected(meter);
  const publish = async (from: number, n: number) => {
    for (let i = from; i < from + n; i++) await meter.publishAsync(REPORTS, `report ${i}`, { qos: 1 });
  };
  return { broker, login, subscribed, publish };
}

const reports = (from: number, n: number) => Array.from({ length: n }, (_, i) => `report ${from + i}`);

test('an away session queues up to the bound, the rest dropped for it alone and counted; back, it takes the queue and new messages flow', async (t) => {
  const { broker, login, subscribed, publish } = await setup(t);
  await endClient((await subscribed('aggregator-street')).client);
  const live = await subscribed('aggregator-other');

  await publish(0, BOUND + 5);
  t.is(broker.refusals.get('queue-full'), 5);
  await until(() => live.received.length === BOUND + 5, 'every report at the live reader');

  const back = login('aggregator-street', true);
  const received: string[] = [];
  back.on('message', (_topic, payload) => received.push(payload.toString()));
  await until(() => received.length === BOUND, 'the queue');
  t.deepEqual(received, reports(0, BOUND), 'the oldest kept, in order');
  // Taken and acknowledged, the queue is empty again: nothing more is dropped.
  await publish(BOUND + 5, BOUND);
  await until(() => received.length === 2 * BOUND, 'the new reports');
  t.deepEqual(received.slice(BOUND), reports(BOUND + 5, BOUND));
  t.is(broker.refusals.get('queue-full'), 5);
});

test('a live reader that acknowledges what it receives never meets the bound', async (t) => {
  const { broker, subscribed, publish } = await setup(t);
  const live = await subscribed('aggregator-street');
  await publish(0, 5 * BOUND);
  await until(() => live.received.length === 5 * BOUND, 'every report');
  t.deepEqual(live.received, reports(0, 5 * BOUND));
  t.is(broker.refusals.get('queue-full'), undefined);
});

test('the bound covers the largest aggregator session and, with many small groups, the provider’s aggregates and feeder readings', (t) => {
  // Defaults: 60 s slots and ack timeout, ten minutes: 10 slots, each sent up to 11 times.
  t.is(queuedMessagesBound({ largestSessionMeters: 500, groups: 2 }, 60, 600), 500 * 10 * 11);
  // 5,000 groups of 20: the provider's session takes 3 messages a group and slot.
  t.is(queuedMessagesBound({ largestSessionMeters: 20, groups: 5000 }, 60, 600), 5000 * 3 * 10);
  t.is(queuedMessagesBound({ largestSessionMeters: 3, groups: 1 }, 60, 600), 1000, 'never below mosquitto’s default');
});
