import test from 'ava';
import { MeterveilError } from '../../firmware/errors.ts';
import { decodeAggregate, encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { decodeAggregatorStatus } from '../../host/protocol/aggregator-status.ts';

const sample: Aggregate = {
  groupId: 'north',
  slot: 119_736_774,
  keyId: '0123456789abcdef',
  packed: 3,
  count: 3,
  contributors: ['m001', 'm002', 'm010'],
  ciphertext: Uint8Array.from([1, 2, 3, 250]),
};
const reason = (fn: () => unknown) =>
  (() => {
    try {
      fn();
      return 'none';
    } catch (e) {
      return (e as MeterveilError).reason;
    }
  })();
const tamper = (patch: Record<string, unknown>) =>
  new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(encodeAggregate(sample))), ...patch }));

test('an aggregate survives encoding and decoding', (t) => {
  t.deepEqual(decodeAggregate(encodeAggregate(sample)), sample);
});

test('malformed, oversized and inconsistent aggregates are refused with a reason', (t) => {
  t.is(
    reason(() => decodeAggregate(new TextEncoder().encode('{"v":1'))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregate(Uint8Array.from([0xff, 0xfe]))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregate(new Uint8Array(900_000))),
    'oversized',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ v: 2 }))),
    'unsupported-version',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ type: 'report' }))),
    'wrong-message-type',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ count: 4 }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ contributors: ['m002', 'm001', 'm010'] }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ contributors: ['m001', 'm001', 'm010'] }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ slot: -1 }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ extra: 1 }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ ciphertext: 'XYZ' }))),
    'malformed-hex',
  );
  t.is(
    reason(() => decodeAggregate(tamper({ groupId: 'a/b' }))),
    'malformed',
  );
});

test('an aggregator status is decoded only with exactly its fields, counts that are counts, and reasons that are reason names', (t) => {
  const status = {
    groupId: 'north',
    accepted: 40,
    openSlots: [7, 8],
    rejections: { 'slot-too-old': 1 },
    suppressed: { 'members-missing': 2 },
  };
  const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  t.deepEqual(decodeAggregatorStatus(bytes(status)), status);
  t.is(
    reason(() => decodeAggregatorStatus(bytes({ ...status, meters: ['m1'] }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregatorStatus(bytes({ ...status, accepted: 1.5 }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregatorStatus(bytes({ ...status, suppressed: { 'Members Missing': 1 } }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregatorStatus(bytes({ ...status, rejections: { duplicate: -1 } }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregatorStatus(bytes({ ...status, groupId: 'a/b' }))),
    'malformed-id',
  );
  t.is(
    reason(() => decodeAggregatorStatus(bytes({ ...status, openSlots: Array.from({ length: 2000 }, (_, i) => i) }))),
    'malformed',
  );
  t.is(
    reason(() => decodeAggregatorStatus(bytes({ ...status, openSlots: Array.from({ length: 20_000 }, (_, i) => i) }))),
    'oversized',
  );
});
