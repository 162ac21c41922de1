/**
 * Provisioning during a key rotation, with real 2048-bit keys, the embedded broker and real
 * SQLite files: the configs written for the aggregators, the provider and the custodians list
 * both keys and point at copies in their own data folders; the aggregator and the provider start
 * from them, and the provider decrypts under either key. In threshold mode the number of
 * custodians comes from provider.decryption and the provider's threshold ring is carried over.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ciphertextToBytes } from '../../firmware/paillier/codec.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { runAggregator } from '../../host/aggregator/run.ts';
import { deploymentAcl } from '../../host/broker/deployment-acl.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { aggregatorUser, meterUser } from '../../host/config/identities.ts';
import { readAcceptedPublicKeys, readPrivateKeyRing, readThresholdKeyRing } from '../../host/config/key-ring.ts';
import { loadConfig } from '../../host/config/load.ts';
import { readSecrets } from '../../host/config/secrets.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { aggregateTopic } from '../../host/protocol/topics.ts';
import { runProvider } from '../../host/provider/run.ts';
import { testProvision } from '../../tools/pipeline/tls-fixture.ts';
import { until } from '../helpers/poll.ts';
import { recentSlot } from '../helpers/recent-slot.ts';
import { testKeyPair, testThresholdKeySet, testThresholdKeySets } from '../helpers/test-keys.ts';
import { writeThresholdKeySet } from '../../host/threshold/key-files.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';

const GROUPS = [{ id: 'street', members: ['m1', 'm2', 'm3', 'm4'], feeder: 'f', k: 2 }];
const ROTATING = ['keys/public.json', 'keys/next/public.json'];

function aggregateOf(key: PaillierPublicKey, slot: number, readings: Record<string, bigint>): Aggregate {
  const contributors = Object.keys(readings).sort();
  const c = key.add(...Object.values(readings).map((m) => key.encrypt(m, (n) => new Uint8Array(randomBytes(n)))));
  return {
    groupId: 'street',
    slot,
    keyId: key.keyId,
    packed: 1,
    count: contributors.length,
    contributors,
    ciphertext: ciphertextToBytes(key, c),
  };
}

async function deployment(t: { teardown(fn: () => unknown): void }, extra: object) {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-provision-rotation-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const configPath = join(dir, 'meterveil.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: './data',
      broker: { url: `mqtt://127.0.0.1:${port}`, embedded: true },
      slotSeconds: 2,
      latenessSeconds: 1,
      http: { host: '127.0.0.1', port: 0 },
      packing: { readings: 1, maxPowerWatts: 23_000 },
      groups: GROUPS,
      ...extra,
    }),
  );
  return { dir, configPath, out: join(dir, 'out') };
}

test('single mode: aggregator and provider start from the provisioned configs with both keys, and the provider decrypts under each', async (t) => {
  const [oldPair, newPair] = [testKeyPair(0), testKeyPair(1)];
  const { dir, configPath, out } = await deployment(t, {
    keys: { publicKeys: ROTATING, privateKeys: ['keys/private.json', 'keys/next/private.json'] },
  });
  writeKeyPair(join(dir, 'data/keys'), oldPair);
  writeKeyPair(join(dir, 'data/keys/next'), newPair);
  t.is((await testProvision(configPath, out)).custodians, 0);
  const ids = [oldPair.publicKey.keyId, newPair.publicKey.keyId];

  const aggregatorConfig = loadConfig(join(out, 'aggregators/street/config.json'));
  t.deepEqual(
    readAcceptedPublicKeys(aggregatorConfig).map((k) => k.keyId),
    ids,
  );
  t.true(aggregatorConfig.keys.publicKeys.every((path) => path.startsWith(join(out, 'aggregators/street/data/keys/ring/'))));
  const providerConfig = loadConfig(join(out, 'provider/config.json'));
  t.deepEqual([...readPrivateKeyRing(providerConfig).keys()], ids);
  for (const path of providerConfig.keys.privateKeys) t.is(statSync(path).mode & 0o777, 0o600, path);

  const all = readSecrets(join(out, 'secrets.json'));
  const users = new Map([
    ...Object.entries(all.services),
    ...Object.entries(all.meters).map(([m, s]) => [meterUser(m), s.password!] as [string, string]),
  ]);
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: Number(new URL(providerConfig.broker.url).port),
    users,
    acl: deploymentAcl(providerConfig),
  });
  t.teardown(() => broker.close());
  const aggregator = await runAggregator(aggregatorConfig, 'street');
  t.teardown(() => aggregator.stop());
  const provider = await runProvider(providerConfig);
  t.teardown(() => provider.stop());

  const publisher = connectRole({
    url: providerConfig.broker.url,
    username: aggregatorUser('street'),
    password: all.services[aggregatorUser('street')],
    clientId: 'aggregator.street/test',
    persistent: false,
  });
  await connected(publisher);
  t.teardown(() => endClient(publisher));
  const slot = recentSlot(10, providerConfig.slotSeconds);
  for (const aggregate of [
    aggregateOf(oldPair.publicKey, slot, { m1: 1n, m2: 2n }),
    aggregateOf(newPair.publicKey, slot, { m3: 30n, m4: 40n }),
  ]) {
    await publisher.publishAsync(aggregateTopic('street'), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
  }
  await until(() => provider.store.series('street', slot)?.contributors.length === 4, `both parts of slot ${slot}`);
  t.like(provider.store.series('street', slot), { total: 73n, contributors: ['m1', 'm2', 'm3', 'm4'] });
});

test('threshold mode: custodians counted from provider.decryption, the threshold ring copied for the provider and the custodians', async (t) => {
  const [oldSet, newSet] = testThresholdKeySets(2, 3, 2);
  const decryption = { mode: 'threshold', custodians: 3, threshold: 2, publicKeys: ROTATING };
  const { dir, configPath, out } = await deployment(t, { keys: { publicKeys: ROTATING }, provider: { decryption } });
  writeThresholdKeySet(join(dir, 'data/keys'), oldSet);
  writeThresholdKeySet(join(dir, 'data/keys/next'), newSet);
  t.is((await testProvision(configPath, out)).custodians, 3);
  const ids = [oldSet.publicKey.keyId, newSet.publicKey.keyId];

  const providerConfig = loadConfig(join(out, 'provider/config.json'));
  t.deepEqual(
    readThresholdKeyRing(providerConfig).map((k) => k.keyId),
    ids,
  );
  t.deepEqual(
    readAcceptedPublicKeys(loadConfig(join(out, 'aggregators/street/config.json'))).map((k) => k.keyId),
    ids,
  );
  for (const index of [1, 2, 3])
    t.deepEqual(
      readThresholdKeyRing(loadConfig(join(out, `custodians/${index}/config.json`))).map((k) => k.keyId),
      ids,
    );

  const all = readSecrets(join(out, 'secrets.json'));
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: Number(new URL(providerConfig.broker.url).port),
    users: new Map(Object.entries(all.services)),
    acl: deploymentAcl(providerConfig),
  });
  t.teardown(() => broker.close());
  const provider = await runProvider(providerConfig);
  t.teardown(() => provider.stop());
  t.is(provider.store.countWaiting(), 0);

  // A ring whose keys are not the configured t of n is refused before anything is written.
  const other = testThresholdKeySet(3, 3);
  writeThresholdKeySet(join(dir, 'data/keys/third'), other);
  writeFileSync(
    configPath,
    JSON.stringify({
      ...JSON.parse(readFileSync(configPath, 'utf8')),
      provider: { decryption: { ...decryption, publicKeys: [...ROTATING, 'keys/third/public.json'] } },
    }),
  );
  await t.throwsAsync(() => testProvision(configPath, join(dir, 'refused')), {
    message: /says 2 of 3 custodians, but .*third\/public\.json is a 3 of 3 key/,
  });
});
