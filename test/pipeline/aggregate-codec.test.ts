import test from 'ava';
import { MeterveilError } from '../../firmware/errors.ts';
import { decodeAggregate, encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';

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
