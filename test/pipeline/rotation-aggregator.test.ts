/**
 * The aggregator during a key rotation: one slot's reports under two accepted keys become two
 * aggregates, each with its own contributors and its own k check; a key not in keys.publicKeys
 * is refused by name; the list of keys is validated when the aggregator starts.
 */
import test from 'ava';
import { copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { runAggregator } from '../../host/aggregator/run.ts';
import type { SlotClosed } from '../../host/aggregator/aggregator.ts';
import { PROVIDER_USER } from '../../host/config/identities.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { decodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { slotAt } from '../../host/protocol/slots.ts';
import { AGGREGATE_TOPIC_FILTER } from '../../host/protocol/topics.ts';
import { deploy, ids, sharedKeyPair } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

const nextPair = testKeyPair(1);
const strangerPair = testKeyPair(2);
const ROTATING_KEYS = { keys: { publicKeys: ['keys/public.json', 'keys/next/public.json'] } };

test('a slot with reports under the old and the new key gives two aggregates, never a mixed one', async (t) => {
  // m8 never reports: with m7's report refused too, two of eight are missing, as many as k, so the
  // feeder gives no single meter away and the slot is published rather than `members-missing`.
  const members = ids('m', 8);
  const d = await deploy({ groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }], extra: ROTATING_KEYS });
  t.teardown(() => d.cleanup());
  const [oldPair, newPair, stranger] = [await sharedKeyPair(), nextPair, strangerPair];
  writeKeyPair(join(d.config.dataDir, 'keys/next'), newPair);

  const watcher = await mqtt.connectAsync(d.config.broker.url, {
    username: PROVIDER_USER,
    password: d.secrets.services[PROVIDER_USER],
    clientId: PROVIDER_USER,
  });
  t.teardown(() => watcher.endAsync(true));
  const aggregates: Aggregate[] = [];
  watcher.on('message', (_topic, payload) => aggregates.push(decodeAggregate(new Uint8Array(payload))));
  await watcher.subscribeAsync(AGGREGATE_TOPIC_FILTER, { qos: 1 });

  const closed: SlotClosed[] = [];
  const aggregator = await runAggregator(d.config, 'street', { onSlotClosed: (e) => closed.push(e) });
  t.teardown(() => aggregator.stop());

  const slot = slotAt(Date.now(), d.config.slotSeconds);
  const underOld = await Promise.all(members.slice(0, 3).map((m) => d.meter(m, ['street'], { publicKey: oldPair.publicKey })));
  const underNew = await Promise.all(members.slice(3, 6).map((m) => d.meter(m, ['street'], { publicKey: newPair.publicKey })));
  // No resend before the refusal's ack comes back, even on a slow machine: the refusal is counted once.
  const unlisted = await d.meter(members[6], ['street'], { publicKey: stranger.publicKey, resendMs: 60_000 });
  await Promise.all([
    ...underOld.map((m, i) => m.report(slot, [BigInt(i + 1)])),
    ...underNew.map((m, i) => m.report(slot, [BigInt(10 * (i + 1))])),
    unlisted.report(slot, [1000n]),
  ]);
  t.is(unlisted.acks[0].status, 2, 'the unlisted key is refused');
  t.is(aggregator.aggregator.rejections.toJSON()['wrong-key-id'], 1);
  // The next slot: one meter under the old key (below k), the rest under the new one.
  await Promise.all([underOld[0].report(slot + 1, [5n]), ...underNew.map((m) => m.report(slot + 1, [7n]))]);

  await until(() => closed.length === 4, 'both slots closed under both keys', 15_000);
  const bySlotAndKey = (s: number, keyId: string) => closed.find((e) => e.slot === s && e.keyId === keyId);
  t.like(bySlotAndKey(slot, oldPair.publicKey.keyId), { state: 'published', count: 3 });
  t.like(bySlotAndKey(slot, newPair.publicKey.keyId), { state: 'published', count: 3 });
  t.like(bySlotAndKey(slot + 1, oldPair.publicKey.keyId), { state: 'suppressed', reason: 'below-k', count: 1 });
  t.like(bySlotAndKey(slot + 1, newPair.publicKey.keyId), { state: 'published', count: 3 });

  await until(() => aggregates.length === 3, 'three aggregates on the broker', 5000);
  const old = aggregates.find((a) => a.slot === slot && a.keyId === oldPair.publicKey.keyId)!;
  const fresh = aggregates.find((a) => a.slot === slot && a.keyId === newPair.publicKey.keyId)!;
  t.deepEqual(old.contributors, members.slice(0, 3));
  t.deepEqual(fresh.contributors, members.slice(3, 6));
  const decrypt = (a: Aggregate, pair: typeof oldPair) => pair.privateKey.decrypt(BigInt('0x' + Buffer.from(a.ciphertext).toString('hex')));
  t.is(decrypt(old, oldPair), 6n);
  t.is(decrypt(fresh, newPair), 60n);
});

test('keys.publicKeys is checked: a key listed twice or an unreadable file stops the aggregator', async (t) => {
  const members = ids('m', 3);
  const twice = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }],
    extra: { keys: { publicKeys: ['keys/public.json', 'keys/again.json'] } },
  });
  t.teardown(() => twice.cleanup());
  copyFileSync(join(twice.config.dataDir, 'keys/public.json'), join(twice.config.dataDir, 'keys/again.json'));
  await t.throwsAsync(runAggregator(twice.config, 'street'), { message: /listed twice/ });

  const missing = await deploy({ groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }], extra: ROTATING_KEYS });
  t.teardown(() => missing.cleanup());
  await t.throwsAsync(runAggregator(missing.config, 'street'), { message: /next\/public\.json/ });
  const parse = (keys: Record<string, unknown>) =>
    parseConfig({ keys, groups: [{ id: 'g', members: ['a', 'b'], feeder: 'f', k: 2 }] }, (p) => resolve('/srv/meterveil', p));
  t.throws(() => parse({ publicKeys: [] }), { message: /keys.publicKeys must list 1..4 key files/ });
  t.throws(() => parse({ privateKeys: ['a.json', './a.json'] }), { message: /keys.privateKeys lists a file twice/ });
  t.deepEqual(parse({}).keys.publicKeys, [parse({}).keys.publicKey]);
});
