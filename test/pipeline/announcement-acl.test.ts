/**
 * Key announcements on the broker: only the provider may publish the retained announcement, the
 * meters may read it, in the embedded broker (a real aedes over TCP) and in the mosquitto ACL file.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import { buildAcl, mayPublish, maySubscribe } from '../../host/broker/acl.ts';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { writeMosquittoFiles } from '../../host/broker/mosquitto.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

const config = parseConfig({ groups: [{ id: 'north', members: ['a1', 'a2'], feeder: 'f-north', k: 2 }] }, (p) => join('/tmp', p));

test('the provider alone publishes announcements; meters read them; nobody else does either', (t) => {
  const acl = buildAcl(config);
  t.true(mayPublish(acl, 'provider', KEY_ANNOUNCEMENT_TOPIC));
  t.true(maySubscribe(acl, 'a1', KEY_ANNOUNCEMENT_TOPIC));
  for (const user of ['a1', 'aggregator.north', 'feeder.f-north']) t.false(mayPublish(acl, user, KEY_ANNOUNCEMENT_TOPIC), user);
  t.false(maySubscribe(acl, 'a1', 'meterveil/v1/keys/#'));
});

test('the mosquitto ACL file carries the same announcement rights', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-acl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const users = new Map([['provider', 'pw-provider']]);
  const { aclPath } = writeMosquittoFiles(dir, { host: '127.0.0.1', port: 1883, users, acl: buildAcl(config) });
  const sections = readFileSync(aclPath, 'utf8').split('\n\n');
  const of = (user: string) => sections.find((s) => s.startsWith(`user ${user}\n`)) ?? '';
  t.true(of('provider').includes(`topic write ${KEY_ANNOUNCEMENT_TOPIC}`));
  t.true(of('a1').includes(`topic read ${KEY_ANNOUNCEMENT_TOPIC}`));
  t.false(of('a1').includes(`topic write ${KEY_ANNOUNCEMENT_TOPIC}`));
  t.true(of('aggregator.north').includes(`topic read ${KEY_ANNOUNCEMENT_TOPIC}`));
  t.false(of('aggregator.north').includes(`topic write ${KEY_ANNOUNCEMENT_TOPIC}`));
});

test("in the embedded broker a meter receives the provider's retained announcement and cannot replace it", async (t) => {
  const port = await freePort();
  const users = new Map([
    ['provider', 'pw-provider'],
    ['a1', 'pw-a1'],
    ['a2', 'pw-a2'],
  ]);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port, users, acl: buildAcl(config) });
  t.teardown(() => broker.close());
  const url = `mqtt://127.0.0.1:${port}`;
  const provider = await mqtt.connectAsync(url, { username: 'provider', password: 'pw-provider', clientId: 'provider' });
  await provider.publishAsync(KEY_ANNOUNCEMENT_TOPIC, '{"from":"provider"}', { qos: 1, retain: true });
  await provider.endAsync();

  const forger = await mqtt.connectAsync(url, { username: 'a2', password: 'pw-a2', clientId: 'a2', reconnectPeriod: 0 });
  forger.on('error', () => {});
  forger.publish(KEY_ANNOUNCEMENT_TOPIC, '{"from":"a2"}', { qos: 0, retain: true });
  await until(() => (broker.refusals.get('publish-not-allowed') ?? 0) === 1, 'the refusal', 5000);
  await forger.endAsync(true);

  const meter = await mqtt.connectAsync(url, { username: 'a1', password: 'pw-a1', clientId: 'a1' });
  t.teardown(() => meter.endAsync(true));
  const received: string[] = [];
  meter.on('message', (_topic, payload) => received.push(payload.toString()));
  await meter.subscribeAsync(KEY_ANNOUNCEMENT_TOPIC, { qos: 1 });
  await until(() => received.length === 1, 'the retained announcement', 5000);
  t.deepEqual(received, ['{"from":"provider"}']);
});
