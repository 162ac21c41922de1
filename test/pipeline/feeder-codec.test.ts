import test from 'ava';
import { MeterveilError } from '../../firmware/errors.ts';
import { decodeFeederReading, encodeFeederReading } from '../../host/protocol/feeder.ts';

const reason = (fn: () => unknown) =>
  (() => {
    try {
      fn();
      return 'none';
    } catch (e) {
      return (e as MeterveilError).reason;
    }
  })();
const bytes = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));

test('a feeder reading survives encoding and decoding, totals beyond 2^53 included', (t) => {
  const r = { feederId: 'feeder-north', slot: 42, total: 2n ** 70n + 3n };
  t.deepEqual(decodeFeederReading(encodeFeederReading(r)), r);
});

test('malformed feeder readings are refused with a reason', (t) => {
  const good = { v: 1, type: 'feeder-reading', feederId: 'f', slot: 1, total: '10' };
  t.is(
    reason(() => decodeFeederReading(bytes({ ...good, total: 10 }))),
    'malformed',
  );
  t.is(
    reason(() => decodeFeederReading(bytes({ ...good, total: '-1' }))),
    'malformed',
  );
  t.is(
    reason(() => decodeFeederReading(bytes({ ...good, total: '01' }))),
    'malformed',
  );
  t.is(
    reason(() => decodeFeederReading(bytes({ ...good, slot: 2 ** 32 }))),
    'malformed',
  );
  t.is(
    reason(() => decodeFeederReading(bytes({ ...good, v: 3 }))),
    'unsupported-version',
  );
  t.is(
    reason(() => decodeFeederReading(bytes({ ...good, other: true }))),
    'malformed',
  );
  t.is(
    reason(() => decodeFeederReading(new Uint8Array(600))),
    'oversized',
  );
  t.is(
    reason(() => encodeFeederReading({ feederId: 'f', slot: 1, total: -5n })),
    'malformed',
  );
});
