/**
 * The disclosure attacks mounted against the real provider over a real broker: the feeder that
 * gives away missing meters (honest meters; an honest aggregator suppresses such a slot, one that
 * publishes it anyway is refused), and the differencing shapes that a
 * dishonest aggregator, holding its group's credentials, publishes. Each is refused by name and
 * nothing is stored.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ciphertextToBytes } from '../../firmware/paillier/codec.ts';
import type { SlotClosed } from '../../host/aggregator/aggregator.ts';
import { runAggregator } from '../../host/aggregator/run.ts';
import { aggregatorUser, feederUser } from '../../host/config/identities.ts';
import { Feeder } from '../../host/feeder/feeder.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { slotAt } from '../../host/protocol/slots.ts';
import { aggregateTopic } from '../../host/protocol/topics.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { recentSlot } from '../helpers/recent-slot.ts';

const range = (prefix: string, from: number, to: number) => ids(prefix, to - from + 1, from);

test('seven of eight members report and the feeder reads the slot: the aggregator suppresses it, and the provider refuses it from one that publishes anyway, naming the missing meter', async (t) => {
  const members = ids('m', 8);
  // The outage bound at the lateness: the short slot is suppressed at its watermark, not held for m8.
  const d = await deploy({ groups: [{ id: 'street', members, feeder: 'feeder-street', k: 5 }], extra: { outageSeconds: 1 } });
  t.teardown(() => d.cleanup());
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const closed: SlotClosed[] = [];
  const aggregator = await runAggregator(d.config, 'street', { onSlotClosed: (e) => closed.push(e) });
  t.teardown(() => aggregator.stop());
  const feederClient = connectRole({
    url: d.config.broker.url,
    username: feederUser('feeder-street'),
    password: d.secrets.services[feederUser('feeder-street')],
    persistent: false,
  });
  await connected(feederClient);
  t.teardown(() => endClient(feederClient));

  const present = await Promise.all(members.slice(0, 7).map((m) => d.meter(m, ['street'])));
  const slot = slotAt(Date.now(), d.config.slotSeconds);
  await Promise.all(present.map((m, i) => m.report(slot, [BigInt(1000 + i)])));
  // The feeder's reading of all eight, the missing m8's 2875 mWh included.
  const total = present.reduce((sum, _m, i) => sum + BigInt(1000 + i), 0n) + 2875n;
  const feeder = new Feeder({ feederId: 'feeder-street', slotSeconds: d.config.slotSeconds, client: feederClient, measure: () => total });
  feeder.publishSlot(slot);
  await until(() => closed.some((e) => e.slot === slot), 'the slot closed', 15_000);
  t.like(closed[0], { state: 'suppressed', reason: 'members-missing', count: 7 });
  t.is(aggregator.aggregator.accepted, 7);

  // An aggregator that publishes the seven all the same (it holds the group's credentials).
  const next = slot + 1;
  feeder.publishSlot(next);
  const key = d.publicKey;
  const user = aggregatorUser('street');
  const client = connectRole({
    url: d.config.broker.url,
    username: user,
    clientId: `${user}/dishonest`,
    password: d.secrets.services[user],
    persistent: false,
  });
  await connected(client);
  t.teardown(() => endClient(client));
  const contributors = members.slice(0, 7);
  const product = key.add(...contributors.map((_m, i) => key.encrypt(BigInt(1000 + i), (n) => new Uint8Array(randomBytes(n)))));
  const aggregate: Aggregate = {
    groupId: 'street',
    slot: next,
    keyId: key.keyId,
    packed: 1,
    count: contributors.length,
    contributors,
    ciphertext: ciphertextToBytes(key, product),
  };
  await client.publishAsync(aggregateTopic('street'), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });

  await until(() => provider.store.refusals(10).some((r) => r.slot === next), 'the refusal', 15_000);
  const refusal = provider.store.refusals(10).find((r) => r.slot === next)!;
  t.is(refusal.reason, 'feeder-complement-below-k');
  t.regex(refusal.detail, /cell of 1 meter\(s\) m8 is below k = 5 \(group street\)/);
  t.is(refusal.count, 7);
  t.is(provider.store.series('street', slot), undefined);
  t.is(provider.store.series('street', next), undefined);
  t.false(
    provider.store.refusals(10).some((r) => r.slot === slot),
    'the suppressed slot never reached the provider',
  );
  t.deepEqual(decrypted, []);
  t.is(provider.provider.counts.totals.get('feeder-complement-below-k'), 1);
});

/** A deployment whose aggregators are dishonest: each publishes, under its own credentials, whatever contributor list it likes. */
async function dishonestAggregators(t: import('ava').ExecutionContext, groups: { id: string; members: string[]; k: number }[]) {
  const d = await deploy({ groups: groups.map((g) => ({ ...g, feeder: `feeder-${g.id}` })) });
  t.teardown(() => d.cleanup());
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const key = d.publicKey;
  const publish = async (groupId: string, slot: number, contributors: string[]) => {
    const c = key.add(...contributors.map(() => key.encrypt(1000n, (n) => new Uint8Array(randomBytes(n)))));
    const aggregate: Aggregate = {
      groupId,
      slot,
      keyId: key.keyId,
      packed: 1,
      count: contributors.length,
      contributors: [...contributors].sort(),
      ciphertext: ciphertextToBytes(key, c),
    };
    const user = aggregatorUser(groupId);
    const client = connectRole({ url: d.config.broker.url, username: user, password: d.secrets.services[user], persistent: false });
    await connected(client);
    await client.publishAsync(aggregateTopic(groupId), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
    await endClient(client);
  };
  const outcome = async (slot: number, groups: string[]) => {
    await until(
      () =>
        groups.every((g) => provider.store.refusals(50).some((r) => r.slot === slot && r.groupId === g) || provider.store.series(g, slot)),
      `the aggregates of slot ${slot}`,
      15_000,
    );
    return groups.map((g) => provider.store.refusals(50).find((r) => r.slot === slot && r.groupId === g)?.reason ?? 'decrypted');
  };
  /** Slot `n` of the test, recent enough for the horizon. */
  const slotOf = (n: number) => recentSlot(n, d.config.slotSeconds);
  return { provider, decrypted, publish, outcome, slotOf };
}

test('{a1, m1..m4} against {z2, m1..m4} with k = 5, either published first: both refused by name, nothing stored', async (t) => {
  // The layout passes the rule (cells of 6, 5 and 6); a1 sorts before the shared ids, z2 after.
  const { provider, decrypted, publish, outcome, slotOf } = await dishonestAggregators(t, [
    { id: 'A', members: ['a1', ...range('m', 1, 5), ...range('p', 1, 5)], k: 5 },
    { id: 'B', members: ['z2', ...range('m', 1, 5), ...range('q', 1, 5)], k: 5 },
  ]);
  const base = slotOf(1000);
  await publish('A', base, ['a1', ...range('m', 1, 4)]);
  await publish('B', base, ['z2', ...range('m', 1, 4)]);
  await publish('B', base + 1, ['z2', ...range('m', 1, 4)]);
  await publish('A', base + 1, ['a1', ...range('m', 1, 4)]);
  t.deepEqual(await outcome(base, ['A', 'B']), ['cell-below-k', 'cell-below-k']);
  t.deepEqual(await outcome(base + 1, ['B', 'A']), ['cell-below-k', 'cell-below-k']);
  t.deepEqual(decrypted, []);
  t.is(provider.store.series('A', base), undefined);
  t.is(provider.store.series('B', base + 1), undefined);
});

test('three aggregates whose combination is the sum of two meters (a1 + b2): the two that complete it refused by name', async (t) => {
  // The layout passes the rule (cells of 6, 5, 5, 6 and 5 meters).
  const { decrypted, publish, outcome, provider, slotOf } = await dishonestAggregators(t, [
    { id: 'A', members: ['a1', ...range('m', 1, 5), ...range('p', 1, 5)], k: 5 },
    { id: 'B', members: ['b2', ...range('n', 1, 5), ...range('q', 1, 5)], k: 5 },
    { id: 'C', members: [...range('m', 1, 5), ...range('n', 1, 5), ...range('r', 1, 5)], k: 5 },
  ]);
  const slot = slotOf(2000);
  // C's {m1..m5, n1..n5} leaves r1..r5 out, five: decrypted. Then A's and B's, whose sum minus C's is a1 + b2.
  await publish('C', slot, [...range('m', 1, 5), ...range('n', 1, 5)]);
  t.deepEqual(await outcome(slot, ['C']), ['decrypted']);
  await publish('A', slot, ['a1', ...range('m', 1, 5)]);
  await publish('B', slot, ['b2', ...range('n', 1, 5)]);
  t.deepEqual(await outcome(slot, ['A', 'B']), ['cell-below-k', 'cell-below-k']);
  const detail = (g: string) => provider.store.refusals(10).find((r) => r.groupId === g)!.detail;
  t.regex(detail('A'), /cell of 1 meter\(s\) a1 is below k = 5/);
  t.regex(detail('B'), /cell of 1 meter\(s\) b2 is below k = 5/);
  t.deepEqual(
    decrypted.map((x) => x.groupId),
    ['C'],
  );
});

test('a group with k = 2 inside a group with k = 10 cannot difference it: both refused, their meters need cells of 10', async (t) => {
  const { decrypted, publish, outcome, provider, slotOf } = await dishonestAggregators(t, [
    { id: 'big', members: range('m', 1, 10), k: 10 },
    { id: 'small', members: range('m', 1, 7), k: 2 },
  ]);
  const slot = slotOf(3000);
  await publish('big', slot, range('m', 1, 10));
  await publish('small', slot, range('m', 1, 7));
  t.deepEqual(await outcome(slot, ['big', 'small']), ['cell-below-k', 'cell-below-k']);
  t.regex(provider.store.refusals(10).find((r) => r.groupId === 'small')!.detail, /below k = 10 \(group big\)/);
  t.deepEqual(decrypted, []);
});
