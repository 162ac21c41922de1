/**
 * The embedded broker keeps its sessions in memory. Restarted without its sessions file it knew no
 * subscriber until each role subscribed again, so a meter back before its aggregator published
 * its outbox to nobody: the broker acknowledged it at QoS 1 and dropped it, the meter sent it again
 * only after its ack timeout, and a slot whose reports all went that way was closed with none of
 * them (never decrypted, the later slots were). With the file, the restarted broker queues for the
 * aggregator's session as mosquitto with persistence does. The file is input: what it names is
 * restored only as far as the broker's users, client ids and ACL of now allow.
 */
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

const REPORTS = 't/reports/m1';
const users = new Map([
  ['meter-m1', 'meter secret'],
  ['aggregator-street', 'aggregator secret'],
]);
const acl = new Map([
  ['meter-m1', { publish: new Set([REPORTS]), subscribe: new Set<string>() }],
  ['aggregator-street', { publish: new Set<string>(), subscribe: new Set([REPORTS]) }],
]);

function setup(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-sessions-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return { sessionsFile: join(dir, 'broker-sessions.json') };
}

async function broker(t: ExecutionContext, port: number, sessionsFile: string | undefined, access = { users, acl }) {
  const started = await startEmbeddedBroker({ host: '127.0.0.1', port, ...access, sessionsFile });
  t.teardown(() => started.close());
  return started;
}

function login(t: ExecutionContext, port: number, username: string, persistent: boolean): MqttClient {
  const client = connectRole({ url: `mqtt://127.0.0.1:${port}`, username, password: users.get(username)!, persistent });
  t.teardown(() => endClient(client));
  return client;
}

/** The aggregator's persistent session, connected and subscribed to the meter's reports. */
async function aggregatorSubscribed(t: ExecutionContext, port: number): Promise<MqttClient> {
  const aggregator = login(t, port, 'aggregator-street', true);
  await connected(aggregator);
  await aggregator.subscribeAsync(REPORTS, { qos: 1 });
  return aggregator;
}

/** The aggregator subscribes and goes; the broker restarts; a meter publishes; the aggregator comes back: what it receives, and whether its session was there. */
async function restartWithMeterFirst(t: ExecutionContext, sessionsFile: string | undefined) {
  const port = await freePort();
  const first = await broker(t, port, sessionsFile);
  await endClient(await aggregatorSubscribed(t, port));
  await first.close();

  await broker(t, port, sessionsFile);
  const meter = login(t, port, 'meter-m1', false);
  await connected(meter);
  await meter.publishAsync(REPORTS, 'report of slot 7', { qos: 1 });

  const received: string[] = [];
  const back = login(t, port, 'aggregator-street', true);
  back.on('message', (_topic, payload) => received.push(payload.toString()));
  const sessionPresent = new Promise<boolean>((resolve) => back.once('connect', (ack) => resolve(ack.sessionPresent)));
  await connected(back);
  return { received, sessionPresent: await sessionPresent };
}

test('without its sessions file a restarted broker drops what a meter publishes before its aggregator is back', async (t) => {
  const { received, sessionPresent } = await restartWithMeterFirst(t, undefined);
  t.false(sessionPresent);
  // Long enough for a queued message to arrive, as it does in the next test.
  await new Promise((r) => setTimeout(r, 500));
  t.deepEqual(received, []);
});

test('with its sessions file a restarted broker queues for the aggregator and resumes its session', async (t) => {
  const { sessionsFile } = setup(t);
  const { received, sessionPresent } = await restartWithMeterFirst(t, sessionsFile);
  t.true(sessionPresent);
  await until(() => received.length === 1, 'the report queued across the restart');
  t.deepEqual(received, ['report of slot 7']);
  t.is(statSync(sessionsFile).mode & 0o777, 0o600, 'private: it names users and their topics');
  const saved = JSON.parse(readFileSync(sessionsFile, 'utf8'));
  t.deepEqual(saved.sessions, [
    { clientId: 'aggregator-street', username: 'aggregator-street', subscriptions: [{ topic: REPORTS, qos: 1 }] },
  ]);
});

test('a clean session discards the saved session of its client id', async (t) => {
  const { sessionsFile } = setup(t);
  const port = await freePort();
  const b = await broker(t, port, sessionsFile);
  await endClient(await aggregatorSubscribed(t, port));
  await until(() => readFileSync(sessionsFile, 'utf8').includes(REPORTS), 'the session saved');
  const clean = login(t, port, 'aggregator-street', false);
  await connected(clean);
  await endClient(clean);
  await b.close();
  t.deepEqual(JSON.parse(readFileSync(sessionsFile, 'utf8')).sessions, []);
});

test('a sessions file naming a user, client id or filter the broker no longer allows is restored only as far as allowed, the rest counted', async (t) => {
  const { sessionsFile } = setup(t);
  writeFileSync(
    sessionsFile,
    JSON.stringify({
      format: 1,
      sessions: [
        // Its filters: one the ACL allows, one it does not (another group's reports).
        {
          clientId: 'aggregator-street',
          username: 'aggregator-street',
          subscriptions: [
            { topic: REPORTS, qos: 1 },
            { topic: 't/reports/m9', qos: 1 },
          ],
        },
        // A user that is gone, and a client id its user may not take.
        { clientId: 'aggregator-gone', username: 'aggregator-gone', subscriptions: [{ topic: REPORTS, qos: 1 }] },
        { clientId: 'meter-m1', username: 'aggregator-street', subscriptions: [{ topic: REPORTS, qos: 1 }] },
        { clientId: 42, username: 'aggregator-street', subscriptions: [] },
      ],
    }),
  );
  const port = await freePort();
  const b = await broker(t, port, sessionsFile);
  t.is(b.refusals.get('session-not-allowed'), 3);
  t.is(b.refusals.get('sessions-file-malformed'), 1);
  const meter = login(t, port, 'meter-m1', false);
  await connected(meter);
  await meter.publishAsync(REPORTS, 'kept for the allowed session', { qos: 1 });
  const received: string[] = [];
  const back = login(t, port, 'aggregator-street', true);
  back.on('message', (topic, payload) => received.push(`${topic} ${payload}`));
  await until(() => received.length === 1, 'the queued report');
  t.deepEqual(received, [`${REPORTS} kept for the allowed session`]);
});

test('a sessions file that does not parse is counted, the broker starts without it and writes a good one', async (t) => {
  const { sessionsFile } = setup(t);
  writeFileSync(sessionsFile, '{"format": 1, "sessions": [');
  const port = await freePort();
  const b = await broker(t, port, sessionsFile);
  t.is(b.refusals.get('sessions-file-malformed'), 1);
  await aggregatorSubscribed(t, port);
  await until(() => readFileSync(sessionsFile, 'utf8').includes(REPORTS), 'the file written again');
  t.is(JSON.parse(readFileSync(sessionsFile, 'utf8')).sessions.length, 1);
});
