/**
 * Property tests. Keys here are 512-bit and named as such: test-only sizes that keep hundreds of
 * cases fast; the 2048-bit behaviour is pinned by the known-answer vectors and the interop tests.
 */
import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { createModArith, createSquareModArith } from '../../firmware/paillier/arith.ts';
import { SlotPacking } from '../../firmware/paillier/packing.ts';
import { RandomnessPool } from '../../firmware/paillier/pool.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { privateKeyFromJson, privateKeyToJson } from '../../host/paillier/key-files.ts';
import { generateKeyPair } from '../../host/paillier/keygen.ts';
import { shortExponentAdmissible } from '../../host/paillier/short-exponent.ts';
import { referenceModPow } from '../helpers/reference.ts';

const random = (length: number) => new Uint8Array(randomBytes(length));
const TEST_ONLY_BITS = 512;
const pairPromise = generateKeyPair(TEST_ONLY_BITS);

test(`keygen makes short-exponent keys with admissible primes and an n-th residue hs; --classic keys have none (test-only ${TEST_ONLY_BITS}-bit)`, async (t) => {
  const { publicKey, privateKey } = await pairPromise;
  const { p, q } = privateKey;
  t.true(shortExponentAdmissible(p, q), 'p = q = 3 mod 4, gcd(p-1, q-1) = 2');
  const se = publicKey.shortExponent!;
  t.is(se.exponentBits, TEST_ONLY_BITS / 2);
  t.is(publicKey.arith.pow(se.hs, (p - 1n) * (q - 1n)), 1n, 'hs is an n-th residue');
  t.is(privateKeyFromJson(privateKeyToJson(privateKey)).publicKey.shortExponent?.hs, se.hs);
  const forged = { ...privateKeyToJson(privateKey), hs: (publicKey.n + 2n).toString(16) };
  t.is(t.throws(() => privateKeyFromJson(forged), { instanceOf: MeterveilError })?.reason, 'bad-private-key');
  const classic = await generateKeyPair(TEST_ONLY_BITS, 'classic');
  t.is(classic.publicKey.shortExponent, undefined);
  t.is(privateKeyToJson(classic.privateKey).version, 1);
});

test(`decrypt(encrypt(m)) = m for random m (test-only ${TEST_ONLY_BITS}-bit key)`, async (t) => {
  const { publicKey, privateKey } = await pairPromise;
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: publicKey.n - 1n }), (m) => privateKey.decrypt(publicKey.encrypt(m, random)) === m),
    { numRuns: 60 },
  );
  t.pass();
});

test(`homomorphic sums, scalar products and plaintext additions (test-only ${TEST_ONLY_BITS}-bit key)`, async (t) => {
  const { publicKey: pk, privateKey: sk } = await pairPromise;
  const value = fc.bigInt({ min: 0n, max: pk.n - 1n });
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 12 }), value, value, (ms, k, a) => {
      const cs = ms.map((m) => pk.encrypt(m, random));
      const sum = ms.reduce((x, y) => x + y, 0n) % pk.n;
      const c = pk.add(...cs);
      return (
        sk.decrypt(c) === sum &&
        sk.decrypt(pk.mulPlain(c, k)) === (sum * k) % pk.n &&
        sk.decrypt(pk.addPlain(c, a)) === (sum + a) % pk.n &&
        sk.decrypt(pk.rerandomize(c, pk.precomputeRn(random))) === sum
      );
    }),
    { numRuns: 25 },
  );
  t.pass();
});

test(`encryption from the pool decrypts, and every pool entry is distinct (test-only ${TEST_ONLY_BITS}-bit key)`, async (t) => {
  const { publicKey, privateKey } = await pairPromise;
  const pool = new RandomnessPool(publicKey, random, 16);
  t.is(pool.refill(), 16);
  const seen = new Set<bigint>();
  for (let m = 0n; m < 16n; m++) {
    const rn = pool.take();
    t.false(seen.has(rn));
    seen.add(rn);
    t.is(privateKey.decrypt(publicKey.encryptWithRn(m, rn)), m);
  }
  t.is(pool.size, 0);
});

test('Montgomery and plain arithmetic agree on random odd moduli', (t) => {
  const oddModulus = fc.bigInt({ min: 3n, max: (1n << 1100n) - 1n }).map((m) => m | 1n);
  fc.assert(
    fc.property(
      oddModulus,
      fc.bigInt({ min: 0n, max: 1n << 1200n }),
      fc.bigInt({ min: 0n, max: 1n << 700n }),
      fc.array(fc.bigInt({ min: 0n, max: 1n << 1100n }), { maxLength: 8 }),
      (m, base, exp, values) => {
        const mont = createModArith(m, 'montgomery');
        const plain = createModArith(m, 'plain');
        const reduced = values.map((v) => v % m);
        const [a, b] = [base % m, exp % m];
        return (
          mont.pow(base, exp) === plain.pow(base, exp) &&
          mont.mul(a, b) === plain.mul(a, b) &&
          mont.product(reduced) === plain.product(reduced) &&
          plain.pow(base, exp) === referenceModPow(base, exp, m)
        );
      },
    ),
    { numRuns: 150 },
  );
  t.pass();
});

test('base-n digit arithmetic modulo n^2 agrees with plain arithmetic on random odd n', (t) => {
  const oddRoot = fc.bigInt({ min: 3n, max: (1n << 1100n) - 1n }).map((m) => m | 1n);
  fc.assert(
    fc.property(oddRoot, fc.bigInt({ min: 0n, max: 1n << 2300n }), fc.bigInt({ min: 0n, max: 1n << 1100n }), (root, base, exp) => {
      const digits = createSquareModArith(root, 'base-root');
      const plain = createModArith(root * root, 'plain');
      const [a, b] = [base % digits.modulus, exp % digits.modulus];
      return digits.pow(base, exp) === plain.pow(base, exp) && digits.mul(a, b) === plain.mul(a, b) && digits.modulus === root * root;
    }),
    { numRuns: 150 },
  );
  t.pass();
});

test(`packed readings sum slot-wise for any number of summands up to the bound (test-only ${TEST_ONLY_BITS}-bit key)`, async (t) => {
  const { publicKey: pk, privateKey: sk } = await pairPromise;
  fc.assert(
    fc.property(
      fc.record({
        maxReading: fc.bigInt({ min: 1n, max: 1n << 40n }),
        maxSummands: fc.integer({ min: 1, max: 1000 }),
        readings: fc.integer({ min: 1, max: 8 }),
      }),
      fc.integer({ min: 1, max: 6 }),
      fc.nat(),
      ({ maxReading, maxSummands, readings }, meterCount, seed) => {
        const packing = SlotPacking.forBounds({ maxReading, maxSummands, readings, modulusBits: pk.bits });
        const meters = Math.min(meterCount, maxSummands);
        const rows = Array.from({ length: meters }, (_, i) =>
          Array.from({ length: readings }, (_, j) => (BigInt(seed + i * 7919 + j * 104729) * 2654435761n) % (maxReading + 1n)),
        );
        // Include the worst case: every reading at its maximum.
        rows[0] = rows[0].map(() => maxReading);
        const sum = pk.add(...rows.map((row) => pk.encrypt(packing.pack(row), random)));
        const expected = Array.from({ length: readings }, (_, j) => rows.reduce((acc, row) => acc + row[j], 0n));
        const plain = sk.decrypt(sum);
        return JSON.stringify(packing.unpack(plain).map(String)) === JSON.stringify(expected.map(String));
      },
    ),
    { numRuns: 40 },
  );
  t.pass();
});

test('packing at the exact bound: maxSummands copies of the maximum fill each slot without carry', (t) => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 1n, max: 1n << 60n }),
      fc.integer({ min: 1, max: 1 << 20 }),
      fc.integer({ min: 1, max: 12 }),
      (maxReading, maxSummands, readings) => {
        const packing = SlotPacking.forBounds({ maxReading, maxSummands, readings, modulusBits: 2048 });
        const full = packing.pack(Array(readings).fill(maxReading)) * BigInt(maxSummands);
        return packing.unpack(full).every((v) => v === maxReading * BigInt(maxSummands));
      },
    ),
  );
  t.pass();
});
