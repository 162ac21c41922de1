/**
 * The provider's decryption client against custodians that send forged partial decryptions (a
 * real 2048-bit 2-of-3 key, the embedded broker with the deployment's ACL, a real custodian
 * service beside forgers logged in as the other custodians): a forged partial never makes it into
 * a result; only partials whose proofs were checked are combined.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MqttClient } from 'mqtt';
import { MeterveilError } from '../../firmware/errors.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { deploymentAcl } from '../../host/broker/deployment-acl.ts';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { aggregatorUser, custodianUser, PROVIDER_USER } from '../../host/config/identities.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { brokerUsers, ensureSecrets } from '../../host/config/secrets.ts';
import { ThresholdDecryptionClient } from '../../host/decryption/threshold-client.ts';
import { decodeRequest, encodeResponse } from '../../host/decryption/messages.ts';
import { runCustodian } from '../../host/custodian/run.ts';
import { custodianPartialTopic, DECRYPTION_REQUEST_TOPIC } from '../../host/decryption/topics.ts';
import { encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { aggregateTopic, evidenceTopic } from '../../host/protocol/topics.ts';
import { deploymentKeys, verifiableAggregate } from '../helpers/evidence.ts';
import { partialToJson } from '../../host/threshold/codec.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';
import { partialDecrypt } from '../../host/threshold/partial.ts';
import type { KeyShare } from '../../host/threshold/threshold-key.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';
import { recentSlot } from '../helpers/recent-slot.ts';

test('forged partials are caught by name; with one forger among three the result is still right', async (t) => {
  const set = testThresholdKeySet(2, 3);
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-forged-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const config = parseConfig(
    {
      dataDir: '.',
      broker: { url: `mqtt://127.0.0.1:${port}`, embedded: true },
      provider: { decryption: { mode: 'threshold', custodians: 3, threshold: 2 } },
      groups: [{ id: 'g', members: ['m1', 'm2', 'm3'], feeder: 'f', k: 2 }],
    },
    (p) => resolve(dir, p),
  );
  const secrets = ensureSecrets(config);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port, users: brokerUsers(secrets), acl: deploymentAcl(config) });
  t.teardown(() => broker.close());
  const login = async (user: string) => {
    const client = connectRole({ url: config.broker.url, username: user, password: secrets.services[user], persistent: false });
    await connected(client);
    t.teardown(() => endClient(client));
    return client;
  };

  const honest = [await runCustodian(config, set.shares[0], { waitForAggregateMs: 2000 })];
  t.teardown(async () => {
    for (const c of honest) await c.stop();
  });
  // A forger computes its true partial and multiplies it by a square: the value's form is fine, its proof is not.
  const forge = async (share: KeyShare) => {
    const client = await login(custodianUser(share.index));
    client.on('message', (_topic, payload) => {
      const { requestId, aggregate } = decodeRequest(payload);
      const key = share.publicKey.paillier;
      const partial = partialDecrypt(share, ciphertextFromBytes(key, aggregate.ciphertext));
      const forged = { ...partial, value: (partial.value * 4n) % key.nSquared };
      client.publish(
        custodianPartialTopic(share.index),
        Buffer.from(
          encodeResponse({
            requestId,
            index: share.index,
            groupId: aggregate.groupId,
            slot: aggregate.slot,
            status: 'partial',
            partial: partialToJson(forged),
          }),
        ),
        { qos: 1 },
      );
    });
    await client.subscribeAsync(DECRYPTION_REQUEST_TOPIC, { qos: 1 });
    return client;
  };
  const forgers: MqttClient[] = [await forge(set.shares[1]), await forge(set.shares[2])];

  const provider = await login(PROVIDER_USER);
  const decryption = new ThresholdDecryptionClient({ client: provider, publicKeys: [set.publicKey], timeoutMs: 15_000 });
  await decryption.start();
  t.teardown(() => decryption.stop());
  const aggregator = await login(aggregatorUser('g'));
  const key = set.publicKey.paillier;
  const publishAggregate = async (slot: number, total: bigint): Promise<Aggregate> => {
    const { aggregate, evidence } = verifiableAggregate(key, deploymentKeys(secrets, 3), 'g', slot, { m1: total, m2: 0n, m3: 0n });
    await aggregator.publishAsync(evidenceTopic('g'), Buffer.from(evidence), { qos: 1 });
    await aggregator.publishAsync(aggregateTopic('g'), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
    return aggregate;
  };

  // Two forgers and one honest custodian: the proofs name both forgers.
  const error = await t.throwsAsync(decryption.decrypt(await publishAggregate(recentSlot(1, config.slotSeconds), 600n)), {
    instanceOf: MeterveilError,
  });
  t.is(error!.reason, 'not-enough-partials');
  t.regex(error!.message, /custodian 2: invalid-partial-proof/);
  t.regex(error!.message, /custodian 3: invalid-partial-proof/);

  // Custodian 2 turns honest: the forged partial of 3 is not used.
  await endClient(forgers[0]);
  honest.push(await runCustodian(config, set.shares[1], { waitForAggregateMs: 2000 }));
  const result = await decryption.decrypt(await publishAggregate(recentSlot(2, config.slotSeconds), 900n));
  t.is(result.plaintext, 900n);
  t.deepEqual(result.used, [1, 2]);
});
