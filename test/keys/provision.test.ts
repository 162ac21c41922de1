/**
 * Provisioning output as its consumers read it: the firmware validator in Node and in the real XS
 * engine, the aggregator's config and secrets loaders, and Debian's mosquitto run with the
 * generated broker folder (mosquitto.conf, password and ACL files).
 */
import test from 'ava';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { validateConfig } from '../../firmware/config/schema.ts';
import { runMosquitto } from '../../host/broker/run-mosquitto.ts';
import { ackTopic, reportTopic } from '../../firmware/protocol/report.ts';
import { custodianUser, meterUser } from '../../host/config/identities.ts';
import { readCosigners } from '../../host/config/key-ring.ts';
import { loadConfig } from '../../host/config/load.ts';
import { deriveAckKey, deriveCustodianKey, deriveStatusKey } from '../../firmware/protocol/meter-keys.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { meterAckKey, meterMacKey, meterStatusKey, readSecrets, servicePassword } from '../../host/config/secrets.ts';
import { readPublicKeyFile, writeKeyPair } from '../../host/paillier/key-files.ts';
import { testProvision } from '../../tools/pipeline/tls-fixture.ts';
import { verifyScryptPasswordHash } from '../../host/provision/credentials.ts';
import { firmwareConfigFromMcconfig } from '../../host/provision/device-forms.ts';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { generateSigningKey, writeSigningKey } from '../../host/keys/signing.ts';
import { bundle, startXsWorker } from '../../host/xs/harness.ts';
import { custodianPartialTopic, DECRYPTION_REQUEST_TOPIC } from '../../host/decryption/topics.ts';
import { groupReportsFilter } from '../../host/protocol/topics.ts';
import { testKeyPair, testThresholdKeySet } from '../helpers/test-keys.ts';
import { readThresholdPublicKeyFile, writeThresholdKeySet } from '../../host/threshold/key-files.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';

const GROUPS = [
  { id: 'street-1', members: ['m1', 'm2', 'm3', 'm4'], feeder: 'f1', k: 2 },
  { id: 'street-2', members: ['m3', 'm4', 'm5', 'm6'], feeder: 'f2', k: 2 },
];

const deployment = (async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-provision-'));
  const pair = testKeyPair();
  writeKeyPair(join(dir, 'data/keys'), pair);
  const port = await freePort();
  const configPath = join(dir, 'meterveil.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: './data',
      broker: { url: `mqtt://127.0.0.1:${port}`, embedded: false },
      slotSeconds: 60,
      packing: { readings: 4, maxPowerWatts: 23_000 },
      groups: GROUPS,
    }),
  );
  const out = join(dir, 'out');
  const signer = generateSigningKey();
  const { publicPath: signingPublic } = writeSigningKey(join(dir, 'signing'), signer);
  const result = await testProvision(configPath, out, signingPublic);
  return { dir, out, port, pair, result, signer };
})();

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

test('every meter gets a configuration the firmware validator accepts, in all three device forms', async (t) => {
  const { out, pair, result, signer } = await deployment;
  t.is(result.meters, 6);
  const macKeys = new Set<string>();
  for (const meterId of ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']) {
    const path = join(out, 'meters', meterId, 'config.json');
    t.is(statSync(path).mode & 0o777, 0o600);
    const raw = read(path);
    const config = validateConfig(raw);
    t.is(config.meterId, meterId);
    t.deepEqual(
      config.groups,
      GROUPS.filter((g) => g.members.includes(meterId)).map((g) => g.id),
    );
    t.is(config.publicKey.keyId, pair.publicKey.keyId);
    t.is(config.macKey.length, 32);
    t.is(config.broker.username, meterUser(meterId));
    t.is(config.packing.maxGroupSize, 4);
    t.is(raw.signingKey, bytesToHex(signer.publicKey));
    macKeys.add(raw.macKey);
    t.deepEqual(firmwareConfigFromMcconfig(readFileSync(join(out, 'meters', meterId, 'mcconfig.args'), 'utf8').trim()), raw);
    const [preference] = read(join(out, 'meters', meterId, 'preferences.json'));
    t.deepEqual([preference.domain, preference.key, JSON.parse(preference.value)], ['meterveil', 'config', raw]);
  }
  t.is(macKeys.size, 6, 'every meter has its own MAC key');
});

test('the firmware validator running in XS accepts every provisioned configuration', async (t) => {
  const { out, pair } = await deployment;
  const worker = await startXsWorker({ bundle: await bundle(new URL('./fixtures/validate-config-entry.ts', import.meta.url).pathname) });
  try {
    for (const meterId of ['m1', 'm3', 'm6']) {
      const reply = await worker.issue({ config: read(join(out, 'meters', meterId, 'config.json')) });
      t.deepEqual(reply, {
        meterId,
        groups: GROUPS.filter((g) => g.members.includes(meterId)).map((g) => g.id),
        keyId: pair.publicKey.keyId,
        macKeyBytes: 32,
        username: meterUser(meterId),
      });
    }
  } finally {
    await worker.close();
  }
});

test("each aggregator's config loads and holds its own members' MAC keys, their acknowledgement keys for its group, and nothing else", async (t) => {
  const { out, pair } = await deployment;
  for (const group of GROUPS) {
    const config = loadConfig(join(out, 'aggregators', group.id, 'config.json'));
    t.is(readPublicKeyFile(config.keys.publicKey).keyId, pair.publicKey.keyId);
    t.is(statSync(config.keys.secrets).mode & 0o777, 0o600);
    const secrets = readSecrets(config.keys.secrets);
    t.deepEqual(Object.keys(secrets.meters).sort(), group.members);
    for (const meterId of group.members) {
      t.is(bytesToHex(meterMacKey(secrets, meterId)), read(join(out, 'meters', meterId, 'config.json')).macKey);
      const meterConfig = validateConfig(read(join(out, 'meters', meterId, 'config.json')));
      t.deepEqual(
        Object.keys(secrets.meters[meterId]),
        ['macKey', 'ackKeys'],
        'no device key and no meter broker password for an aggregator',
      );
      t.deepEqual(Object.keys(secrets.meters[meterId].ackKeys!), [group.id], "no other group's acknowledgement key");
      t.deepEqual(meterAckKey(secrets, meterId, group.id), deriveAckKey(meterConfig.deviceKey, group.id, hmacSha256));
      t.throws(() => meterAckKey(secrets, meterId, 'another-group'), { message: /secrets-missing/ });
    }
    t.deepEqual(Object.keys(secrets.services), [`aggregator.${group.id}`]);
    t.regex(servicePassword(secrets, `aggregator.${group.id}`), /^[0-9a-f]{64}$/);
  }
  const provider = readSecrets(loadConfig(join(out, 'provider', 'config.json')).keys.secrets);
  t.deepEqual(Object.keys(provider.meters).sort(), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  for (const [meterId, entry] of Object.entries(provider.meters)) {
    t.deepEqual(Object.keys(entry), ['statusKey'], 'the provider gets no MAC, device or acknowledgement key');
    const meterConfig = validateConfig(read(join(out, 'meters', meterId, 'config.json')));
    t.deepEqual(meterStatusKey(provider, meterId), deriveStatusKey(meterConfig.deviceKey, hmacSha256));
  }
  t.deepEqual(Object.keys(provider.services), ['provider']);
});

test('the broker gets hashes only, and they match the passwords handed out', async (t) => {
  const { out } = await deployment;
  const users = read(join(out, 'broker', 'users.json')).users as Record<string, string>;
  const m1 = read(join(out, 'meters', 'm1', 'config.json')).broker.password as string;
  t.true(verifyScryptPasswordHash(m1, users[meterUser('m1')]));
  t.false(verifyScryptPasswordHash(m1, users[meterUser('m2')]));
  const brokerFiles = readFileSync(join(out, 'broker', 'users.json'), 'utf8') + readFileSync(join(out, 'broker', 'passwords'), 'utf8');
  t.false(brokerFiles.includes(m1));
  t.deepEqual(
    Object.keys(users).sort(),
    [
      'aggregator.street-1',
      'aggregator.street-2',
      'feeder.f1',
      'feeder.f2',
      ...['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map(meterUser),
      'provider',
    ].sort(),
  );
});

test('mosquitto run with the provisioned broker folder admits a meter and its aggregator, and refuses a wrong password', async (t) => {
  const { dir, out, port } = await deployment;
  // mkdtemp makes 0700 folders; started as root, mosquitto runs as its own user, which must pass through.
  chmodSync(dir, 0o755);
  const broker = await runMosquitto(join(out, 'broker'), () => undefined);
  t.teardown(() => broker.stop());
  t.deepEqual(broker.listeners, [`127.0.0.1:${port}`]);
  const url = `mqtt://127.0.0.1:${port}`;
  const meter = read(join(out, 'meters', 'm1', 'config.json')).broker;
  const aggregatorPassword = readSecrets(join(out, 'aggregators', 'street-1', 'data', 'keys', 'secrets.json')).services[
    'aggregator.street-1'
  ];

  const meterClient = await mqtt.connectAsync(url, {
    username: meter.username,
    password: meter.password,
    clientId: meter.username,
    reconnectPeriod: 0,
  });
  const aggregator = await mqtt.connectAsync(url, {
    username: 'aggregator.street-1',
    password: aggregatorPassword,
    clientId: 'aggregator.street-1',
    reconnectPeriod: 0,
  });
  try {
    await meterClient.subscribeAsync(ackTopic('m1'));
    await aggregator.subscribeAsync(groupReportsFilter('street-1'));
    const report = new Promise<string>((resolve) => aggregator.on('message', (topic, payload) => resolve(`${topic} ${payload}`)));
    const ack = new Promise<string>((resolve) => meterClient.on('message', (topic, payload) => resolve(`${topic} ${payload}`)));
    await meterClient.publishAsync(reportTopic('street-1', 'm1'), 'report', { qos: 1 });
    t.is(await report, `${reportTopic('street-1', 'm1')} report`);
    await aggregator.publishAsync(ackTopic('m1'), 'ack', { qos: 1 });
    t.is(await ack, `${ackTopic('m1')} ack`);
  } finally {
    await Promise.all([meterClient.endAsync(), aggregator.endAsync()]);
  }
  const refused = await mqtt
    .connectAsync(url, {
      username: meter.username,
      password: meter.password.replace(/^./, (c: string) => (c === '0' ? '1' : '0')),
      clientId: meter.username,
      reconnectPeriod: 0,
    })
    .then(
      async (c) => {
        await c.endAsync();
        return 'accepted';
      },
      (e: Error) => e.message,
    );
  t.regex(refused, /Not authorized|Bad username or password/i);
});

test('provisioning never writes into a directory that already holds output', async (t) => {
  const { dir, out } = await deployment;
  const error = await t.throwsAsync(() => testProvision(join(dir, 'meterveil.json'), out));
  t.regex(error!.message, /output-exists/);
});

test('a threshold key: every custodian gets its own broker login, config and ACL entries; the provider keeps the verification keys', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-provision-threshold-'));
  const set = testThresholdKeySet(2, 3);
  writeThresholdKeySet(join(dir, 'data/keys'), set);
  const configPath = join(dir, 'meterveil.json');
  const raw = { dataDir: './data', broker: { url: 'mqtt://127.0.0.1:1883', embedded: true }, groups: GROUPS };
  writeFileSync(configPath, JSON.stringify(raw));
  await t.throwsAsync(() => testProvision(configPath, join(dir, 'refused')), {
    message: /threshold key, but provider\.decryption\.mode is "single"/,
  });
  writeFileSync(configPath, JSON.stringify({ ...raw, provider: { decryption: { mode: 'threshold', custodians: 3, threshold: 2 } } }));
  const out = join(dir, 'out');
  t.is((await testProvision(configPath, out)).custodians, 3);
  const users = read(join(out, 'broker', 'users.json')).users as Record<string, string>;
  for (const index of [1, 2, 3]) {
    const config = loadConfig(join(out, 'custodians', String(index), 'config.json'));
    const password = servicePassword(readSecrets(config.keys.secrets), custodianUser(index));
    t.true(verifyScryptPasswordHash(password, users[custodianUser(index)]));
    t.deepEqual(Object.keys(readSecrets(config.keys.secrets).services), [custodianUser(index)]);
    // Its own key of each meter, under which the meter authenticates every report to it; no MAC key, no device key.
    const meters = readSecrets(config.keys.secrets).meters;
    const all = readSecrets(join(out, 'secrets.json')).meters;
    t.deepEqual(Object.keys(meters).sort(), Object.keys(all).sort());
    for (const [meterId, entry] of Object.entries(meters)) {
      t.deepEqual(Object.keys(entry), ['custodianKey']);
      t.is(entry.custodianKey, bytesToHex(deriveCustodianKey(hexToBytes(all[meterId].deviceKey!), index, hmacSha256)));
    }
  }
  for (const meter of readdirSync(join(out, 'meters'))) t.is(read(join(out, 'meters', meter, 'config.json')).custodians, 3);
  const acl = readFileSync(join(out, 'broker', 'acl'), 'utf8');
  t.true(
    acl.includes(
      `user custodian.2\ntopic write ${custodianPartialTopic(2)}\ntopic read meterveil/v1/groups/+/evidence\ntopic read ${DECRYPTION_REQUEST_TOPIC}\n`,
    ),
  );
  // The contributing reports: written by each group's aggregator, read by the custodians, never by the provider.
  t.regex(acl, /user aggregator\.[^\n]+\n(topic [^\n]*\n)*topic write meterveil\/v1\/groups\/[^/]+\/evidence\n/);
  t.notRegex(acl.slice(acl.indexOf('user provider')).split('\nuser ')[0], /evidence/);
  t.regex(acl, new RegExp(`user provider\\n(topic [^\\n]*\\n)*topic write ${DECRYPTION_REQUEST_TOPIC}\\n`));
  const providerConfig = loadConfig(join(out, 'provider', 'config.json'));
  const providerKey = readThresholdPublicKeyFile(providerConfig.keys.publicKey);
  t.like(providerConfig.provider.decryption, { mode: 'threshold', custodians: 3, threshold: 2 });
  t.deepEqual(providerKey.verificationKeys, set.publicKey.verificationKeys);
});

test('a threshold key with custodian signing keys: meters and aggregators are provisioned with the cosigners and t', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-provision-cosigners-'));
  const set = testThresholdKeySet(2, 3);
  writeThresholdKeySet(join(dir, 'data/keys'), set);
  const custodians = [1, 2, 3].map((i) => {
    const key = generateSigningKey();
    writeSigningKey(join(dir, 'data/keys', `custodian-${i}`), key);
    return key;
  });
  const signer = generateSigningKey();
  const { publicPath: signingPublic } = writeSigningKey(join(dir, 'signing'), signer);
  const cosigners = [1, 2, 3].map((i) => `keys/custodian-${i}/signing-public.json`);
  const configPath = join(dir, 'meterveil.json');
  const decryption = { mode: 'threshold', custodians: 3, threshold: 2, cosigners };
  writeFileSync(
    configPath,
    JSON.stringify({ dataDir: './data', broker: { url: 'mqtt://127.0.0.1:1883' }, groups: GROUPS, provider: { decryption } }),
  );
  const out = join(dir, 'out');
  await t.throwsAsync(() => testProvision(configPath, join(dir, 'without-signing-key')), {
    message: /meter-would-refuse.*cosigners: needs signingKey/,
  });
  await testProvision(configPath, out, signingPublic);
  const expected = { threshold: 2, keys: custodians.map((c) => c.publicKey) };
  for (const meterId of ['m1', 'm4']) {
    t.deepEqual(validateConfig(read(join(out, 'meters', meterId, 'config.json'))).cosigners, expected, meterId);
  }
  for (const role of ['aggregators/street-2', 'provider']) {
    t.deepEqual(readCosigners(loadConfig(join(out, role, 'config.json'))), expected, role);
  }
});
