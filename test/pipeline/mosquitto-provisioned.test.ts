/**
 * `meterveil broker --mosquitto DIR` runs Debian's mosquitto with the folder `provision` wrote, as
 * an operator would (CI runs this as root, where mosquitto gives up root for its own user): it
 * says it is ready once mosquitto listens, keeps an offline aggregator's queued reports through a
 * restart of the broker (persistence in DIR/persistence/), and refuses by name a folder it cannot
 * run.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { reportTopic } from '../../firmware/protocol/report.ts';
import { groupReportsFilter } from '../../host/protocol/topics.ts';
import { aggregatorUser } from '../../host/config/identities.ts';
import { readSecrets } from '../../host/config/secrets.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { testProvision } from '../../tools/pipeline/tls-fixture.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';
import { RoleProcess } from '../../tools/pipeline/role-process.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

const run = promisify(execFile);
const bin = new URL('../../bin/meterveil.js', import.meta.url).pathname;

async function provisioned() {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-mosquitto-'));
  writeKeyPair(join(dir, 'data/keys'), testKeyPair());
  const port = await freePort();
  const configPath = join(dir, 'meterveil.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: './data',
      broker: { url: `mqtts://127.0.0.1:${port}`, embedded: false },
      slotSeconds: 10,
      groups: [{ id: 'street', members: ['m1', 'm2'], feeder: 'f1', k: 2 }],
    }),
  );
  const out = join(dir, 'out');
  await testProvision(configPath, out);
  return { dir, out, port, url: `mqtts://127.0.0.1:${port}`, ca: readFileSync(join(out, 'ca/ca.pem'), 'utf8') };
}

test('the provisioned mosquitto.conf: a TLS listener, files, persistence, a queue bound from the layout and sessions that expire after the horizon', async (t) => {
  const { out, port } = await provisioned();
  const conf = readFileSync(join(out, 'broker/mosquitto.conf'), 'utf8').split('\n');
  const listener = conf.indexOf(`listener ${port} 127.0.0.1`);
  t.deepEqual(conf.slice(listener + 1, listener + 5), [
    `cafile ${join(out, 'broker/tls/ca.pem')}`,
    `certfile ${join(out, 'broker/tls/broker.pem')}`,
    `keyfile ${join(out, 'broker/tls/broker-key.pem')}`,
    'tls_version tlsv1.2',
  ]);
  t.is(statSync(join(out, 'broker/tls/broker-key.pem')).mode & 0o777, 0o600);
  t.is(readFileSync(join(out, 'broker/tls/ca.pem'), 'utf8'), readFileSync(join(out, 'provider/data/tls/ca.pem'), 'utf8'));
  t.true(conf.includes('allow_anonymous false'));
  t.true(conf.includes(`password_file ${join(out, 'broker/passwords')}`));
  t.true(conf.includes(`acl_file ${join(out, 'broker/acl')}`));
  t.true(conf.includes('persistence true'));
  t.true(conf.includes(`persistence_location ${join(out, 'broker/persistence')}/`));
  // Two members, 10 s slots, the ten-minute outage bound: 60 reports each, each sent once and again
  // every 60 s (10 times) until the aggregator is back: 2 * 60 * 11.
  t.true(conf.includes('max_queued_messages 1320'));
  // A session away longer than the horizon (default 7 days) goes with its queue: its aggregates would be refused anyway.
  t.true(conf.includes('persistent_client_expiration 168h'));
  t.false(
    conf.some((line) => line.startsWith('user ')),
    'no user line: mosquitto picks its own user when started as root',
  );
  t.is(statSync(out).mode & 0o777, 0o711);
});

test('broker --mosquitto: ready once mosquitto listens; reports queued for an offline aggregator survive a broker restart', async (t) => {
  const { dir, out, url, ca } = await provisioned();
  chmodSync(dir, 0o755);
  const meter = JSON.parse(readFileSync(join(out, 'meters/m1/config.json'), 'utf8')).broker;
  const aggregatorLogin = {
    username: aggregatorUser('street'),
    password: readSecrets(join(out, 'aggregators/street/data/keys/secrets.json')).services[aggregatorUser('street')],
    clientId: aggregatorUser('street'),
    clean: false,
    reconnectPeriod: 0,
    ca,
  };

  let broker = new RoleProcess(['broker', '--mosquitto', join(out, 'broker')]);
  await broker.start();
  t.teardown(() => broker.stop());
  t.regex(broker.output.join(''), /mosquitto listening on 127\.0\.0\.1:\d+/);

  // The aggregator's persistent session subscribes, then goes away.
  const away = await mqtt.connectAsync(url, aggregatorLogin);
  await away.subscribeAsync(groupReportsFilter('street'), { qos: 1 });
  await away.endAsync();
  const meterClient = await mqtt.connectAsync(url, {
    username: meter.username,
    password: meter.password,
    clientId: meter.username,
    reconnectPeriod: 0,
    ca,
  });
  await meterClient.publishAsync(reportTopic('street', 'm1'), 'report of slot 7', { qos: 1 });
  await meterClient.endAsync();

  await broker.stop();
  broker = new RoleProcess(['broker', '--mosquitto', join(out, 'broker')]);
  await broker.start();

  // Listening before the session resumes: mosquitto sends what it queued right after CONNACK.
  const back = mqtt.connect(url, aggregatorLogin);
  t.teardown(() => back.endAsync());
  const received = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the queued report never arrived')), 10_000);
    back.on('message', (topic, payload) => {
      clearTimeout(timer);
      resolve(`${topic} ${payload}`);
    });
  });
  t.is(received, `${reportTopic('street', 'm1')} report of slot 7`);
});

test('broker --mosquitto refuses, in one line with its reason, a folder without the provisioned files', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'meterveil-mosquitto-empty-'));
  const failed = (await run(process.execPath, [bin, 'broker', '--mosquitto', empty]).catch((e) => e)) as { code: number; stderr: string };
  t.is(failed.code, 1);
  t.is(failed.stderr.trim().split('\n').length, 1);
  t.regex(failed.stderr, /^meterveil: mosquitto-files-missing: .*mosquitto\.conf does not exist/);
});

test('started as root, broker --mosquitto hands the files to mosquitto’s user, and refuses a folder that user cannot pass', async (t) => {
  const { dir, out } = await provisioned();
  if (process.getuid?.() !== 0) {
    // As anyone else mosquitto runs as that user, so a private folder above it is no obstacle.
    const broker = new RoleProcess(['broker', '--mosquitto', join(out, 'broker')]);
    await broker.start();
    await broker.stop();
    t.is(statSync(join(out, 'broker/passwords')).uid, process.getuid!());
    return;
  }
  const failed = (await run(process.execPath, [bin, 'broker', '--mosquitto', join(out, 'broker')]).catch((e) => e)) as {
    code: number;
    stderr: string;
  };
  t.is(failed.code, 1);
  t.regex(failed.stderr, new RegExp(`^meterveil: mosquitto-folder-unreachable: ${dir} is mode 700`));
  chmodSync(dir, 0o755);
  const broker = new RoleProcess(['broker', '--mosquitto', join(out, 'broker')]);
  await broker.start();
  t.teardown(() => broker.stop());
  const mosquittoUid = Number((await run('id', ['-u', 'mosquitto'])).stdout.trim());
  for (const file of ['passwords', 'acl', 'persistence', 'tls', 'tls/broker-key.pem'])
    t.is(statSync(join(out, 'broker', file)).uid, mosquittoUid, file);
});
