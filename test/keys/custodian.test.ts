/**
 * Custodians over a real MQTT broker (the embedded aedes, with the ACL of host/broker/acl.ts plus
 * threshold mode), a real 2048-bit (2,3) key and real SQLite files: the provider-side client gets
 * a group total only when the custodians' own policy allows it. Aggregates are published as an
 * aggregator of a threshold deployment does: their contributors' reports first, then the aggregate.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MqttClient } from 'mqtt';
import { MeterveilError } from '../../firmware/errors.ts';
import { buildAcl } from '../../host/broker/acl.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { aggregatorUser, custodianUser, PROVIDER_USER } from '../../host/config/identities.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { addCustodianAcl } from '../../host/broker/custodian-acl.ts';
import { ThresholdDecryptionClient } from '../../host/decryption/threshold-client.ts';
import { runCustodian, type RunningCustodian } from '../../host/custodian/run.ts';
import { CustodianStore } from '../../host/custodian/store.ts';
import { aggregateHash, encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { aggregateTopic, evidenceTopic } from '../../host/protocol/topics.ts';
import { custodianKeyOf, fixedKeys, verifiableAggregate, type VerifiableAggregate } from '../helpers/evidence.ts';
import { until } from '../helpers/poll.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';
import { recentSlot } from '../helpers/recent-slot.ts';

/** Slot `n` of the test, recent enough for the horizon (the config's 60 s slots). */
const S = (n: number) => recentSlot(n, 60);

const meterKeys = fixedKeys(3);
const password = () => randomBytes(16).toString('hex');

const dir = mkdtempSync(join(tmpdir(), 'meterveil-custodian-'));
let port: number;
let keyId: string;
const keySet = testThresholdKeySet(2, 3);
const storePath = (index: number) => join(dir, `custodian-${index}.sqlite`);
const passwords = new Map<string, string>();
let config: ReturnType<typeof parseConfig>;
let broker: Awaited<ReturnType<typeof startEmbeddedBroker>>;
const custodians: RunningCustodian[] = [];
let provider: MqttClient;
let client: ThresholdDecryptionClient;
const aggregators = new Map<string, MqttClient>();

test.before(async () => {
  port = await freePort();
  config = parseConfig(
    {
      dataDir: './data',
      broker: { url: `mqtt://127.0.0.1:${port}`, embedded: true },
      groups: [
        { id: 'g1', members: ['m1', 'm2', 'm3', 'm4'], feeder: 'f1', k: 2 },
        { id: 'g2', members: ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'], feeder: 'f2', k: 2 },
      ],
    },
    (p) => resolve(dir, p),
  );
  for (const user of [PROVIDER_USER, aggregatorUser('g1'), aggregatorUser('g2'), custodianUser(1), custodianUser(2), custodianUser(3)])
    passwords.set(user, password());
  broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port,
    users: passwords,
    acl: addCustodianAcl(
      buildAcl(config),
      3,
      config.groups.map((g) => g.id),
    ),
  });
  const { publicKey, shares } = keySet;
  keyId = publicKey.keyId;
  for (const share of shares) {
    custodians.push(
      await runCustodian(config, share, {
        password: passwords.get(custodianUser(share.index)),
        storePath: storePath(share.index),
        meterKey: custodianKeyOf(meterKeys, share.index),
        waitForAggregateMs: 1500,
      }),
    );
  }
  provider = connectRole({ url: config.broker.url, username: PROVIDER_USER, password: passwords.get(PROVIDER_USER)! });
  await connected(provider);
  client = new ThresholdDecryptionClient({ client: provider, publicKeys: [publicKey], timeoutMs: 20_000 });
  await client.start();
  for (const g of ['g1', 'g2']) {
    const a = connectRole({ url: config.broker.url, username: aggregatorUser(g), password: passwords.get(aggregatorUser(g))! });
    await connected(a);
    aggregators.set(g, a);
  }
});

test.after.always(async () => {
  client?.stop();
  await Promise.all([...aggregators.values(), provider].filter(Boolean).map(endClient));
  await Promise.all(custodians.map((c) => c.stop()));
  await broker?.close();
});

const evidenceOf = new Map<Aggregate, Uint8Array>();

async function aggregateOf(groupId: string, slot: number, readings: Record<string, bigint>): Promise<Aggregate> {
  const { aggregate, evidence }: VerifiableAggregate = verifiableAggregate(keySet.publicKey.paillier, meterKeys, groupId, slot, readings);
  evidenceOf.set(aggregate, evidence);
  return aggregate;
}

async function publishAsAggregator(aggregate: Aggregate): Promise<void> {
  const aggregator = aggregators.get(aggregate.groupId)!;
  await aggregator.publishAsync(evidenceTopic(aggregate.groupId), Buffer.from(evidenceOf.get(aggregate)!), { qos: 1 });
  await aggregator.publishAsync(aggregateTopic(aggregate.groupId), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
}

async function refusalOf(promise: Promise<unknown>): Promise<MeterveilError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof MeterveilError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

let first: Aggregate;

test.serial('an aggregate its aggregator published is decrypted by 2 of 3 custodians', async (t) => {
  const aggregate = (first = await aggregateOf('g1', S(100), { m1: 400n, m2: 1200n, m3: 0n, m4: 77n }));
  await publishAsAggregator(aggregate);
  const result = await client.decrypt(aggregate);
  t.is(result.plaintext, 1677n);
  t.is(result.used.length, 2);
  t.deepEqual(result.refused, []);
  t.deepEqual(result.rejected, []);
});

test.serial('custodians refuse a differencing request that the provider would have made', async (t) => {
  // g2's contributors {m1, m2, m3, m5, m6}, with g1's {m1..m4} in slot 100 and g2's feeder, single out m4.
  const aggregate = await aggregateOf('g2', S(100), { m1: 400n, m2: 1200n, m3: 0n, m5: 3n, m6: 9n });
  await publishAsAggregator(aggregate);
  const error = await refusalOf(client.decrypt(aggregate));
  t.is(error.reason, 'not-enough-partials');
  t.regex(error.message, /custodian \d refused: cell-below-k/);
  for (const index of [1, 2, 3]) await until(() => refusalsIn(index).includes('cell-below-k'), `custodian ${index}'s cell-below-k refusal`);
  t.pass();
});

test.serial('custodians refuse a total short of fewer than k members: with the feeder reading it gives the missing one away', async (t) => {
  const aggregate = await aggregateOf('g1', S(103), { m1: 1n, m2: 2n, m3: 3n });
  await publishAsAggregator(aggregate);
  const error = await refusalOf(client.decrypt(aggregate));
  t.regex(error.message, /custodian \d refused: feeder-complement-below-k/);
  t.is(error.message.match(/refused: feeder-complement-below-k/g)?.length, 2);
});

test.serial('custodians refuse a ciphertext no aggregator gave them reports for, even with a plausible contributor list', async (t) => {
  // A single meter's reading presented as a group of four.
  const forged = { ...(await aggregateOf('g1', S(101), { m1: 999n })), count: 4, contributors: ['m1', 'm2', 'm3', 'm4'] };
  const error = await refusalOf(client.decrypt(forged));
  t.regex(error.message, /custodian \d refused: unverified-aggregate/);
});

test.serial('a different aggregate for a (group, slot) already decrypted is refused; the same one gets the same answer', async (t) => {
  const again = await aggregateOf('g1', S(100), { m1: 1n, m2: 2n, m3: 3n });
  await publishAsAggregator(again);
  const error = await refusalOf(client.decrypt(again));
  t.regex(error.message, /custodian \d refused: already-decrypted/);
  t.is((await client.decrypt(first)).plaintext, 1677n);
});

test.serial('the record survives a restart: a restarted custodian still refuses the differencing request', async (t) => {
  const { shares } = keySet;
  await custodians[0].stop();
  custodians[0] = await runCustodian(config, shares[0], {
    password: passwords.get(custodianUser(1)),
    storePath: storePath(1),
    meterKey: custodianKeyOf(meterKeys, 1),
    waitForAggregateMs: 1500,
  });
  const aggregate = await aggregateOf('g2', S(100), { m1: 5n, m2: 6n, m3: 7n, m5: 8n, m6: 9n });
  await publishAsAggregator(aggregate);
  const before = refusalsIn(1).filter((r) => r === 'cell-below-k').length;
  await refusalOf(client.decrypt(aggregate));
  await until(() => refusalsIn(1).filter((r) => r === 'cell-below-k').length === before + 1, 'one more cell-below-k refusal');
  t.pass();
});

test.serial('custodians restarted between checking an aggregate and being asked still answer (the check is durable)', async (t) => {
  const { shares } = keySet;
  const aggregate = await aggregateOf('g1', S(102), { m1: 5n, m2: 6n, m3: 7n, m4: 0n });
  await publishAsAggregator(aggregate);
  const hash = aggregateHash(aggregate);
  await until(() => seenIn(1, hash) && seenIn(2, hash), 'the aggregate recorded by custodians 1 and 2');
  for (const index of [1, 2]) {
    await custodians[index - 1].stop();
    custodians[index - 1] = await runCustodian(config, shares[index - 1], {
      password: passwords.get(custodianUser(index)),
      storePath: storePath(index),
      meterKey: custodianKeyOf(meterKeys, index),
      waitForAggregateMs: 1500,
    });
  }
  const result = await client.decrypt(aggregate);
  t.is(result.plaintext, 18n);
  t.deepEqual(result.refused, []);
});

function seenIn(index: number, hash: string): boolean {
  const store = new CustodianStore(storePath(index), { keyIds: [keyId], index }, 'process');
  try {
    return store.wasSeen(hash);
  } finally {
    store.close();
  }
}

function refusalsIn(index: number): string[] {
  const store = new CustodianStore(storePath(index), { keyIds: [keyId], index }, 'process');
  try {
    return store.refusalReasons();
  } finally {
    store.close();
  }
}
