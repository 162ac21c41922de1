/**
 * The whole threshold path as operators run it: `meterveil keygen --threshold` with sealed shares,
 * `meterveil provision`, two `meterveil custodian` processes (the third custodian is offline), a
 * real broker with the provisioned credentials and ACL, and the provider's client.
 */
import test from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAcl } from '../../host/broker/acl.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { aggregatorUser, PROVIDER_USER } from '../../host/config/identities.ts';
import { loadConfig } from '../../host/config/load.ts';
import { brokerUsers, readSecrets, servicePassword } from '../../host/config/secrets.ts';
import { addCustodianAcl } from '../../host/broker/custodian-acl.ts';
import { ThresholdDecryptionClient } from '../../host/decryption/threshold-client.ts';
import { encodeAggregate } from '../../host/protocol/aggregate.ts';
import { aggregateTopic, evidenceTopic } from '../../host/protocol/topics.ts';
import { deploymentKeys, verifiableAggregate } from '../helpers/evidence.ts';
import { recentSlot } from '../helpers/recent-slot.ts';
import { readThresholdPublicKeyFile } from '../../host/threshold/key-files.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';

const run = promisify(execFile);
const bin = new URL('../../bin/meterveil.js', import.meta.url).pathname;
const PASSPHRASE = 'each custodian reseals with its own';

function startCustodian(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, 'custodian', ...args], {
    env: { ...process.env, METERVEIL_PASSPHRASE: PASSPHRASE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (/"role":"custodian".*"msg":"custodian \d of \d .*connected to/.test(output)) resolve(child);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`custodian exited with ${code}: ${output}`)));
  });
}

test('two custodian processes from provisioned configs and sealed shares decrypt a group total', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-custodian-cli-'));
  const port = await freePort();
  await run(process.execPath, [bin, 'keygen', '--threshold', '2', '--custodians', '3', '--out', join(dir, 'data', 'keys')], {
    env: { ...process.env, METERVEIL_PASSPHRASE: PASSPHRASE },
  });
  const configPath = join(dir, 'meterveil.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: './data',
      broker: { url: `mqtt://127.0.0.1:${port}`, embedded: true },
      groups: [{ id: 'g1', members: ['m1', 'm2', 'm3'], feeder: 'f1', k: 2 }],
      provider: { decryption: { mode: 'threshold', custodians: 3, threshold: 2 } },
    }),
  );
  const out = join(dir, 'provisioned');
  await run(process.execPath, [bin, 'provision', '--config', configPath, '--out', out]);

  const config = loadConfig(configPath);
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port,
    users: brokerUsers(readSecrets(join(out, 'secrets.json'))),
    acl: addCustodianAcl(
      buildAcl(config),
      3,
      config.groups.map((g) => g.id),
    ),
  });
  const children: ChildProcess[] = [];
  t.teardown(async () => {
    for (const child of children) child.kill('SIGTERM');
    await broker.close();
  });
  for (const index of [1, 3]) {
    children.push(
      await startCustodian([
        '--share',
        join(dir, 'data', 'keys', `share-${index}.json`),
        '--config',
        join(out, 'custodians', String(index), 'config.json'),
      ]),
    );
  }

  const providerConfig = loadConfig(join(out, 'provider', 'config.json'));
  const publicKey = readThresholdPublicKeyFile(providerConfig.keys.publicKey);
  const provider = connectRole({
    url: config.broker.url,
    username: PROVIDER_USER,
    password: servicePassword(readSecrets(providerConfig.keys.secrets), PROVIDER_USER),
  });
  const aggregatorSecrets = readSecrets(loadConfig(join(out, 'aggregators', 'g1', 'config.json')).keys.secrets);
  const aggregator = connectRole({
    url: config.broker.url,
    username: aggregatorUser('g1'),
    password: servicePassword(aggregatorSecrets, aggregatorUser('g1')),
  });
  await Promise.all([connected(provider), connected(aggregator)]);
  const client = new ThresholdDecryptionClient({ client: provider, publicKeys: [publicKey], timeoutMs: 30_000 });
  await client.start();
  try {
    // The meters' keys as provisioned: each custodian got only its own key of each meter.
    const meters = deploymentKeys(readSecrets(join(out, 'secrets.json')), 3);
    const { aggregate, evidence } = verifiableAggregate(publicKey.paillier, meters, 'g1', recentSlot(7, config.slotSeconds), {
      m1: 250n,
      m2: 4000n,
      m3: 6n,
    });
    await aggregator.publishAsync(evidenceTopic('g1'), Buffer.from(evidence), { qos: 1 });
    await aggregator.publishAsync(aggregateTopic('g1'), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
    const result = await client.decrypt(aggregate);
    t.is(result.plaintext, 4256n);
    t.deepEqual(result.used, [1, 3]);
  } finally {
    client.stop();
    await Promise.all([endClient(provider), endClient(aggregator)]);
  }
});
