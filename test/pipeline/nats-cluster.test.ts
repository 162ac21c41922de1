/**
 * The broker tier on a real three-node NATS cluster (nats-server 2.9) with TLS: the permissions of
 * the deployment's ACL on NATS's subjects, QoS 1 through a persistent session resumed on another
 * node, a retained meter status read from another node, no login over NATS's own protocol, and
 * the node configs `provision` writes, run by `meterveil broker --nats`.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { meterStatusTopic } from '../../firmware/protocol/meter-status.ts';
import { reportTopic } from '../../firmware/protocol/report.ts';
import { natsMaxAckPending, natsSubject } from '../../host/broker/nats.ts';
import { buildAcl } from '../../host/broker/acl.ts';
import { aggregatorUser, meterUser, PROVIDER_USER } from '../../host/config/identities.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { aggregateTopic, backlogTopic, groupReportsFilter } from '../../host/protocol/topics.ts';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { deploy, freePort, type TestDeployment } from '../../tools/pipeline/deployment.ts';
import { RoleProcess } from '../../tools/pipeline/role-process.ts';
import { testProvision } from '../../tools/pipeline/tls-fixture.ts';
import { brokerConnection } from '../../host/tls/files.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { until } from '../helpers/poll.ts';

let d: TestDeployment;
const groups = [
  { id: 'a', members: ['m1', 'm2'], feeder: 'fa', k: 2 },
  { id: 'b', members: ['m3', 'm4'], feeder: 'fb', k: 2 },
];

test.before(async () => {
  d = await deploy({ groups, broker: 'nats', tls: true });
});
test.after.always(() => d?.cleanup());

/** A party's client on node `node` (0-based), its messages collected from before it connects. */
async function party(user: string, node: number, options: { clientId?: string; persistent?: boolean } = {}) {
  const password = d.secrets.meters[user.replace(/^meter\./, '')]?.password ?? d.secrets.services[user];
  const client = connectRole({ ...brokerConnection(d.config), url: d.config.broker.urls[node], username: user, password, ...options });
  const got: { topic: string; payload: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await connected(client);
  return { client, got };
}

async function refusedSubscription(client: MqttClient, filter: string): Promise<boolean> {
  try {
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    return granted[0].qos === 128;
  } catch {
    return true;
  }
}

const settle = () => new Promise((r) => setTimeout(r, 500));

test.serial('a meter publishes only its own topics; an aggregator on another node gets its own reports at QoS 1', async (t) => {
  const a = await party(aggregatorUser('a'), 0);
  const m1 = await party(meterUser('m1'), 1, { persistent: false });
  t.teardown(() => Promise.all([endClient(a.client), endClient(m1.client)]));
  await a.client.subscribeAsync(groupReportsFilter('a'), { qos: 1 });
  await m1.client.publishAsync(reportTopic('a', 'm2'), 'forged', { qos: 1 });
  await m1.client.publishAsync(backlogTopic('a'), 'forged marker', { qos: 1 });
  await m1.client.publishAsync(reportTopic('a', 'm1'), 'own', { qos: 1 });
  await until(() => a.got.length > 0, 'the own report');
  await settle();
  t.deepEqual(
    a.got.map((m) => [m.topic, m.payload]),
    [[reportTopic('a', 'm1'), 'own']],
  );
  for (const topic of [reportTopic('a', 'm2'), backlogTopic('a')])
    t.true(
      d.brokerLog.some((l) => l.includes(`Publish Violation - User "${meterUser('m1')}", Subject "${natsSubject(topic)}"`)),
      topic,
    );
});

test.serial("an aggregator reads only its group's meters, and no party reads NATS's delivery subjects", async (t) => {
  const b = await party(aggregatorUser('b'), 2);
  t.teardown(() => endClient(b.client));
  t.true(await refusedSubscription(b.client, groupReportsFilter('a')), "another group's meters");
  t.true(await refusedSubscription(b.client, 'meterveil/v1/groups/+/reports/+'), "every group's meters");
  t.true(await refusedSubscription(b.client, '$MQTT/sub/#'), 'the deliveries of QoS 1 subscriptions');
  t.true(await refusedSubscription(b.client, '#'));
  t.false(await refusedSubscription(b.client, groupReportsFilter('b')), 'its own members');
});

test.serial('only aggregators publish aggregates, each its own group', async (t) => {
  const provider = await party(PROVIDER_USER, 0);
  const a = await party(aggregatorUser('a'), 1);
  const m1 = await party(meterUser('m1'), 2, { persistent: false });
  t.teardown(() => Promise.all([provider.client, a.client, m1.client].map(endClient)));
  await provider.client.subscribeAsync('meterveil/v1/groups/+/aggregates', { qos: 1 });
  await m1.client.publishAsync(aggregateTopic('a'), 'from a meter', { qos: 1 });
  await a.client.publishAsync(aggregateTopic('b'), 'for another group', { qos: 1 });
  await provider.client.publishAsync(aggregateTopic('a'), 'from the provider', { qos: 1 });
  await a.client.publishAsync(aggregateTopic('a'), 'genuine', { qos: 1 });
  await until(() => provider.got.length > 0, 'the aggregate');
  await settle();
  t.deepEqual(
    provider.got.map((m) => m.payload),
    ['genuine'],
  );
});

test.serial('a persistent session resumed on another node gets the QoS 1 reports queued while it was away, in order, once', async (t) => {
  const away = await party(aggregatorUser('a'), 0);
  await away.client.subscribeAsync(groupReportsFilter('a'), { qos: 1 });
  await endClient(away.client);
  const m2 = await party(meterUser('m2'), 1, { persistent: false });
  t.teardown(() => endClient(m2.client));
  for (let i = 0; i < 20; i++) await m2.client.publishAsync(reportTopic('a', 'm2'), `r${i}`, { qos: 1 });
  const back = await party(aggregatorUser('a'), 2);
  t.teardown(() => endClient(back.client));
  await until(() => back.got.length >= 20, 'the queue');
  await settle();
  t.deepEqual(
    back.got.map((m) => m.payload),
    Array.from({ length: 20 }, (_, i) => `r${i}`),
  );
});

test.serial("a meter's retained status is read from another node, retained, the last one only", async (t) => {
  const m3 = await party(meterUser('m3'), 0, { persistent: false });
  t.teardown(() => endClient(m3.client));
  await m3.client.publishAsync(meterStatusTopic('m3'), 'old', { qos: 1, retain: true });
  await m3.client.publishAsync(meterStatusTopic('m3'), 'new', { qos: 1, retain: true });
  const provider = await party(PROVIDER_USER, 2, { clientId: 'provider-status', persistent: false });
  t.teardown(() => endClient(provider.client));
  await provider.client.subscribeAsync('meterveil/v1/meters/+/status', { qos: 1 });
  await until(() => provider.got.length > 0, 'the retained status');
  await settle();
  t.deepEqual(provider.got, [{ topic: meterStatusTopic('m3'), payload: 'new', retain: true }]);
});

test.serial("no party logs in over NATS's own protocol, where it could read every delivery subject", async (t) => {
  const port = Number(/Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(d.brokerLog.join('\n'))?.[1]);
  t.true(port > 0);
  const user = aggregatorUser('b');
  const reply = await new Promise<string>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c) => {
      text += c.toString();
      if (text.includes('INFO') && !text.includes('CONNECT_SENT')) {
        text += 'CONNECT_SENT';
        socket.write(
          `CONNECT ${JSON.stringify({ user, pass: d.secrets.services[user], verbose: false, tls_required: false })}\r\nPING\r\n`,
        );
      }
      if (/-ERR|PONG/.test(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', () => resolve(text));
  });
  t.regex(reply, /-ERR 'Authorization Violation'/);
});

test('node configs refuse what NATS 2.9 cannot hold (a "." in a topic); a group of 600 is one subscription of its aggregator', (t) => {
  t.is(natsSubject('meterveil/v1/meters/+/status'), 'meterveil.v1.meters.*.status');
  t.is(natsSubject('meterveil/v1/groups/#'), 'meterveil.v1.groups.>');
  t.throws(() => natsSubject(reportTopic('g', 'm.1')), { message: /nats-server 2\.9 refuses/ });
  t.is(natsSubject(backlogTopic('g')), 'meterveil.v1.groups.g.reports.~backlog');
  const members = Array.from({ length: 600 }, (_, i) => `m${i}`);
  const config = parseConfig({ groups: [{ id: 'big', members, feeder: 'f', k: 2 }], broker: { url: 'mqtt://127.0.0.1:1883' } }, (p) => p);
  const acl = buildAcl(config);
  t.deepEqual([...acl.get(aggregatorUser('big'))!.subscribe], [groupReportsFilter('big'), KEY_ANNOUNCEMENT_TOPIC]);
  // The provider's four filters are the most any party holds: 65535 / 4.
  t.is(natsMaxAckPending(acl), 16_383);
});

test("provision writes each node's config; three `meterveil broker --nats` nodes make a cluster the parties reach with TLS", async (t) => {
  t.timeout(90_000);
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-nats-'));
  writeKeyPair(join(dir, 'data/keys'), testKeyPair());
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const configPath = join(dir, 'meterveil.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      broker: {
        urls: ports.slice(0, 3).map((p) => `mqtts://127.0.0.1:${p}`),
        cluster: { routes: ports.slice(3).map((p) => `127.0.0.1:${p}`) },
      },
      slotSeconds: 10,
      groups: [{ id: 'street', members: ['m1', 'm2'], feeder: 'f1', k: 2 }],
    }),
  );
  const out = join(dir, 'out');
  await testProvision(configPath, out);
  const conf = readFileSync(join(out, 'broker/nats/node-2.conf'), 'utf8');
  t.is(statSync(join(out, 'broker/nats/node-2.conf')).mode & 0o777, 0o600);
  t.regex(conf, new RegExp(`mqtt \\{\\n  host: "127.0.0.1"\\n  port: ${ports[1]}\\n  tls \\{`));
  t.regex(conf, /stream_replicas: 3/);
  t.regex(conf, /password: "\$2b\$04\$/);
  t.notRegex(conf, new RegExp(JSON.parse(readFileSync(join(out, 'secrets.json'), 'utf8')).meters.m1.password));
  const meter = JSON.parse(readFileSync(join(out, 'meters/m1/config.json'), 'utf8'));
  t.deepEqual(
    meter.broker.urls,
    ports.slice(0, 3).map((p) => `mqtts://127.0.0.1:${p}`),
    'a meter is given every node, in order',
  );
  const nodes = [1, 2, 3].map((i) => new RoleProcess(['broker', '--nats', join(out, `broker/nats/node-${i}.conf`)]));
  t.teardown(() => Promise.all(nodes.map((n) => n.stop())));
  await Promise.all(nodes.map((n) => n.start()));
  const secrets = JSON.parse(readFileSync(join(out, 'aggregators/street/data/keys/secrets.json'), 'utf8'));
  const ca = readFileSync(join(out, 'ca/ca.pem'), 'utf8');
  const user = aggregatorUser('street');
  const client = connectRole({ url: `mqtts://127.0.0.1:${ports[2]}`, ca, username: user, password: secrets.services[user] });
  t.teardown(() => endClient(client));
  await connected(client, 30_000);
  t.deepEqual(await client.subscribeAsync(groupReportsFilter('street'), { qos: 1 }), [{ topic: groupReportsFilter('street'), qos: 1 }]);
});
