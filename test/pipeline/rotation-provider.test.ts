/**
 * The provider's handling of a (group, slot) that comes in parts under two key ids (a key
 * rotation), over the embedded broker with a ring of two real 2048-bit keys and its SQLite store:
 * overlapping parts refused, differencing through one group's parts caught, the series total the
 * sum of the parts with both parts' contributors, and the feeder comparison held until the
 * slot's parts are in (host/provider/held-comparisons.ts).
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ciphertextToBytes } from '../../firmware/paillier/codec.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { aggregatorUser, feederUser } from '../../host/config/identities.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { encodeFeederReading } from '../../host/protocol/feeder.ts';
import { slotStartMs } from '../../host/protocol/slots.ts';
import { aggregateTopic, feederTopic } from '../../host/protocol/topics.ts';
import { partsDueMs } from '../../host/provider/held-comparisons.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { deploy, sharedKeyPair, type TestDeployment } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { recentSlot } from '../helpers/recent-slot.ts';

const nextPair = testKeyPair(1);
const random = (n: number) => new Uint8Array(randomBytes(n));

async function rotatingProvider(
  t: { teardown(fn: () => unknown): void },
  groups: { id: string; members: string[]; feeder: string; k: number }[],
) {
  const d = await deploy({
    groups,
    extra: {
      keys: { publicKeys: ['keys/public.json', 'keys/next/public.json'], privateKeys: ['keys/private.json', 'keys/next/private.json'] },
    },
  });
  t.teardown(() => d.cleanup());
  const [oldPair, newPair] = [await sharedKeyPair(), nextPair];
  writeKeyPair(join(d.config.dataDir, 'keys/next'), newPair);
  const clock = { now: Date.now() };
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { now: () => clock.now, onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  return { d, provider, clock, decrypted, oldKey: oldPair.publicKey, newKey: newPair.publicKey, send: sender(d) };
}

function aggregateOf(key: PaillierPublicKey, groupId: string, slot: number, readings: Record<string, bigint>): Aggregate {
  const contributors = Object.keys(readings).sort();
  const c = key.add(...Object.values(readings).map((m) => key.encrypt(m, random)));
  return { groupId, slot, keyId: key.keyId, packed: 1, count: contributors.length, contributors, ciphertext: ciphertextToBytes(key, c) };
}

/** Publishes as the group's aggregator or as the feeder meter, each under its own broker login. */
function sender(d: TestDeployment) {
  const publish = async (user: string, topic: string, message: Uint8Array) => {
    const client = connectRole({
      url: d.config.broker.url,
      username: user,
      password: d.secrets.services[user],
      clientId: `${user}/test`,
      persistent: false,
    });
    await connected(client);
    await client.publishAsync(topic, Buffer.from(message), { qos: 1 });
    await endClient(client);
  };
  return {
    aggregate: (a: Aggregate) => publish(aggregatorUser(a.groupId), aggregateTopic(a.groupId), encodeAggregate(a)),
    feeder: (feederId: string, slot: number, total: bigint) =>
      publish(feederUser(feederId), feederTopic(feederId), encodeFeederReading({ feederId, slot, total })),
  };
}

test("parts of one slot: overlapping contributors refused, a disjoint part summed with both parts' contributors, repeats recognised", async (t) => {
  const members = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
  const { d, provider, oldKey, newKey, send } = await rotatingProvider(t, [{ id: 'street', members, feeder: 'f', k: 2 }]);
  const counts = () => provider.provider.counts.toJSON();
  const slot = recentSlot(4000, d.config.slotSeconds);
  const first = aggregateOf(oldKey, 'street', slot, { m1: 1n, m2: 2n, m3: 3n });
  await send.aggregate(first);
  await until(() => provider.store.series('street', slot) !== undefined, 'the first part', 10_000);

  await send.aggregate(aggregateOf(newKey, 'street', slot, { m3: 30n, m4: 40n }));
  await until(() => counts()['overlapping-parts'] === 1, 'the overlapping part refused', 10_000);
  t.is(provider.store.series('street', slot)!.total, 6n, 'nothing of the overlapping part counted');

  await send.aggregate(aggregateOf(newKey, 'street', slot, { m4: 4n, m5: 5n, m6: 6n }));
  await until(() => provider.store.series('street', slot)!.contributors.length === 6, 'the second part', 10_000);
  const row = provider.store.series('street', slot)!;
  t.is(row.total, 21n, 'the sum of both parts');
  t.deepEqual(row.readings, [21n]);
  t.deepEqual(row.contributors, members, "both parts' contributors");
  const parts = provider.store.db
    .prepare('SELECT key_id, contributors FROM series_parts WHERE group_id = ? AND slot = ? ORDER BY contributors')
    .all('street', slot);
  t.deepEqual(parts, [
    { key_id: oldKey.keyId, contributors: '["m1","m2","m3"]' },
    { key_id: newKey.keyId, contributors: '["m4","m5","m6"]' },
  ]);

  await send.aggregate(first);
  await send.aggregate(aggregateOf(oldKey, 'street', slot, { m1: 100n, m2: 200n }));
  await until(() => counts().republished === 1 && counts()['already-decrypted'] === 1, 'the repeats', 10_000);
  t.is(provider.store.series('street', slot)!.total, 21n, 'a slot is counted once per key');
});

test("differencing through one group's parts: its two parts and another group's aggregate would expose a meter", async (t) => {
  const { d, provider, oldKey, newKey, send } = await rotatingProvider(t, [
    { id: 'a', members: ['m1', 'm2', 'm3', 'm4'], feeder: 'fa', k: 2 },
    { id: 'b', members: ['m1', 'm2', 'm5', 'm6'], feeder: 'fb', k: 2 },
  ]);
  const slot = recentSlot(4100, d.config.slotSeconds);
  await send.aggregate(aggregateOf(oldKey, 'a', slot, { m1: 1n, m2: 2n }));
  await send.aggregate(aggregateOf(newKey, 'a', slot, { m3: 3n, m4: 4n }));
  await until(() => provider.store.series('a', slot)?.contributors.length === 4, "a's two parts", 10_000);
  // b's total minus a's part {m1, m2} is m5's reading.
  await send.aggregate(aggregateOf(newKey, 'b', slot, { m1: 1n, m2: 2n, m5: 5n }));
  await until(() => provider.provider.counts.totals.get('cell-below-k') === 1, 'the differencing refusal', 10_000);
  t.is(provider.store.series('b', slot), undefined);
  t.regex(provider.store.refusals(5).find((r) => r.groupId === 'b')!.detail, /cell of 1 meter\(s\) m5 is below k = 2/);
  // b's next slot with a set that exposes nothing (it leaves out m1 and m2, two, k = 2) is decrypted.
  await send.aggregate(aggregateOf(newKey, 'b', slot + 1, { m5: 5n, m6: 6n }));
  await until(() => provider.store.series('b', slot + 1) !== undefined, "b's next slot", 10_000);
  t.is(provider.store.series('b', slot + 1)!.total, 11n);
});

test("the feeder comparison waits for the slot's parts: no alert after the first part, one after the deadline if the rest never comes, none for parts that come late together", async (t) => {
  const members = ['m1', 'm2', 'm3', 'm4'];
  const { d, provider, clock, decrypted, oldKey, newKey, send } = await rotatingProvider(t, [{ id: 'g', members, feeder: 'f', k: 2 }]);
  const alerts = () => provider.store.alerts(20);
  const slotOf = (slot: number) => decrypted.filter((x) => x.slot === slot);
  const base = 4200;
  clock.now = slotStartMs(base, d.config.slotSeconds);

  // Feeder first, then the two parts: compared when the second is in, and it matches.
  await send.feeder('f', base, 100n);
  await send.aggregate(aggregateOf(oldKey, 'g', base, { m1: 10n, m2: 30n }));
  await until(() => slotOf(base).length === 1, 'the first part', 10_000);
  t.true(slotOf(base)[0].comparisonHeld);
  t.deepEqual(alerts(), [], 'no alert on the first part alone');
  await send.aggregate(aggregateOf(newKey, 'g', base, { m3: 25n, m4: 35n }));
  await until(() => slotOf(base).length === 2, 'the second part', 10_000);
  t.like(slotOf(base)[1], { total: 100n, count: 4, feeder: 100n, alert: false });

  // The first part, then the feeder, then the second part: the feeder's arrival is held too.
  await send.aggregate(aggregateOf(oldKey, 'g', base + 1, { m1: 10n, m2: 10n }));
  await until(() => slotOf(base + 1).length === 1, 'the first part', 10_000);
  await send.feeder('f', base + 1, 50n);
  await until(() => provider.store.feeder('g', base + 1) !== undefined, 'the feeder reading', 10_000);
  provider.provider.compareHeld();
  t.deepEqual(alerts(), []);
  await send.aggregate(aggregateOf(newKey, 'g', base + 1, { m3: 15n, m4: 15n }));
  await until(() => slotOf(base + 1).length === 2, 'the second part', 10_000);
  t.like(slotOf(base + 1)[1], { total: 50n, alert: false });

  // Only one part ever comes: nothing before the slot's parts are due, the alert after.
  await send.feeder('f', base + 2, 100n);
  await send.aggregate(aggregateOf(newKey, 'g', base + 2, { m1: 20n, m2: 20n }));
  await until(() => slotOf(base + 2).length === 1, 'the only part', 10_000);
  const due = partsDueMs(base + 2, d.config, clock.now);
  clock.now = due - 1;
  provider.provider.compareHeld();
  t.deepEqual(alerts(), [], 'not yet due');
  clock.now = due;
  provider.provider.compareHeld();
  t.like(alerts(), [{ groupId: 'g', slot: base + 2, total: 40n, feeder: 100n, missing: 2 }]);

  // Every member in one part: nothing more can come, compared at once.
  await send.feeder('f', base + 3, 100n);
  await send.aggregate(aggregateOf(newKey, 'g', base + 3, { m1: 5n, m2: 5n, m3: 5n, m4: 5n }));
  await until(() => slotOf(base + 3).length === 1, 'the slot', 10_000);
  t.like(slotOf(base + 3)[0], { total: 20n, alert: true });

  // An aggregator that was away closes a slot long after its watermark, every part at once: the
  // comparison is held from the first part's arrival, not compared on it alone.
  const late = base + 4;
  clock.now = partsDueMs(late, d.config, 0) + 300_000;
  await send.feeder('f', late, 60n);
  await send.aggregate(aggregateOf(oldKey, 'g', late, { m1: 10n, m2: 20n }));
  await until(() => slotOf(late).length === 1, 'the first part, late', 10_000);
  t.true(slotOf(late)[0].comparisonHeld);
  provider.provider.compareHeld();
  await send.aggregate(aggregateOf(newKey, 'g', late, { m3: 10n, m4: 20n }));
  await until(() => slotOf(late).length === 2, 'the second part', 10_000);
  t.like(slotOf(late)[1], { total: 60n, alert: false });
  t.deepEqual(
    alerts()
      .map((a) => a.slot)
      .sort(),
    [base + 2, base + 3],
  );
});
