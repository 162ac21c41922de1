/**
 * The masked scheme's arithmetic and masks (firmware/masked/): byte-wise sums modulo 2^W against
 * BigInt, widths from the packing so that a full group of the largest readings never carries, and
 * masks that differ by key, key id and slot and cancel exactly when subtracted.
 */
import test from 'ava';
import fc from 'fast-check';
import { bigIntToBytes, bytesToBigInt } from '../../firmware/bytes.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { deriveMaskKey, maskOf, meterMask } from '../../firmware/masked/mask.ts';
import { addMod, isMaskedValue, maskedPackingFor, maskedParamsOf, subMod } from '../../firmware/masked/params.ts';
import { maskReadings } from '../../firmware/masked/seal.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { maskSum, unmask } from '../../host/scheme/unmask.ts';
import { maskedScheme } from '../../host/scheme/aggregation.ts';

const key = (n: number) => deriveMaskKey(new Uint8Array(32).fill(n), '0000000000000001', 0, hmacSha256);

test('addMod and subMod are the sum and difference modulo 2^W, for widths that do not fill their last byte', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 300 }),
      fc.bigInt({ min: 0n, max: (1n << 300n) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << 300n) - 1n }),
      (bits, x, y) => {
        const params = { bits, bytes: Math.ceil(bits / 8) };
        const m = 1n << BigInt(bits);
        const a = bigIntToBytes(x % m, params.bytes);
        const b = bigIntToBytes(y % m, params.bytes);
        t.is(bytesToBigInt(addMod(a, b, params)), ((x % m) + (y % m)) % m);
        t.is(bytesToBigInt(subMod(a, b, params)), ((((x % m) - (y % m)) % m) + m) % m);
        t.true(isMaskedValue(addMod(a, b, params), params));
      },
    ),
    { numRuns: 200 },
  );
});

test('the width is the packing’s: a group of maxGroupSize meters at the largest reading sums without wrapping; too wide a packing is refused', (t) => {
  const packing = maskedPackingFor(60, { readings: 4, maxGroupSize: 1000, maxPowerWatts: 23_000 });
  const params = maskedParamsOf(packing);
  t.is(params.bits, packing.slotBits * 4);
  const scheme = maskedScheme('0000000000000001', params);
  const values = Array.from({ length: 1000 }, (_, i) =>
    maskReadings(Array(4).fill(packing.maxReading), packing, [key(i)], scheme.keyId, 7, hmacSha256),
  );
  const sum = scheme.combineAll(values.map((v) => scheme.parse(v)));
  const keys = new Map(values.map((_, i) => [`m${i}`, key(i)]));
  const total = unmask(sum, [maskSum((m) => keys.get(m), [...keys.keys()], scheme.keyId, 7, params)], params);
  t.deepEqual(packing.unpack(total), Array(4).fill(packing.maxReading * 1000n));
  const tooWide = t.throws(() => maskedPackingFor(60, { readings: 255, maxGroupSize: 10_000_000, maxPowerWatts: 100_000 }), {
    instanceOf: MeterveilError,
  });
  t.is(tooWide?.reason, 'packing-does-not-fit');
});

test('masks differ by meter key, key id and slot; the sum of n holders’ masks is what n holders together remove', (t) => {
  const params = { bits: 40, bytes: 5 };
  const id = '0000000000000001';
  const masks = new Set(
    [
      maskOf(key(1), id, 1, params, hmacSha256),
      maskOf(key(2), id, 1, params, hmacSha256),
      maskOf(key(1), id, 2, params, hmacSha256),
      maskOf(key(1), '0000000000000002', 1, params, hmacSha256),
    ].map((m) => bytesToBigInt(m)),
  );
  t.is(masks.size, 4);
  const holders = [1, 2, 3].map((h) => deriveMaskKey(new Uint8Array(32).fill(9), id, h, hmacSha256));
  const c = addMod(bigIntToBytes(1234n, 5), meterMask(holders, id, 5, params, hmacSha256), params);
  const sums = holders.map((h) => maskSum(() => h, ['m'], id, 5, params));
  t.is(unmask(bytesToBigInt(c), sums, params), 1234n);
  t.not(unmask(bytesToBigInt(c), sums.slice(0, 2), params), 1234n, 'two of three holders leave a mask on it');
  t.is(t.throws(() => maskOf(new Uint8Array(15), id, 1, params, hmacSha256), { instanceOf: MeterveilError })?.reason, 'bad-mask-key');
});

test('a masked value of the wrong length or with bits above W is refused as out of range', (t) => {
  const scheme = maskedScheme('0000000000000001', { bits: 18, bytes: 3 });
  t.is(scheme.admit(Uint8Array.of(3, 255, 255)), 0x3ffffn);
  t.is(scheme.admit(Uint8Array.of(4, 0, 0)), undefined);
  t.is(scheme.admit(Uint8Array.of(0, 0)), undefined);
  t.is(t.throws(() => scheme.parse(Uint8Array.of(255, 0, 0)), { instanceOf: MeterveilError })?.reason, 'ciphertext-out-of-range');
});
