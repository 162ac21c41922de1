import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { MeterveilError } from '../../firmware/errors.ts';
import { publicKeyFromJson } from '../../firmware/paillier/codec.ts';
import { createModArith } from '../../firmware/paillier/arith.ts';
import { combinePartials } from '../../host/threshold/combine.ts';
import {
  keyShareFromJson,
  keyShareToJson,
  partialFromJson,
  partialToJson,
  thresholdPublicKeyFromJson,
  thresholdPublicKeyToJson,
} from '../../host/threshold/codec.ts';
import { generateThresholdKey, type ThresholdKeySet } from '../../host/threshold/dealer.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';
import { modPow } from '../../host/paillier/openssl-pow.ts';
import { partialDecrypt } from '../../host/threshold/partial.ts';
import { custodianSetsOverlap } from '../../host/threshold/threshold-key.ts';

const random = (length: number) => new Uint8Array(randomBytes(length));

function subsets<T>(items: T[], size: number): T[][] {
  if (size === 0) return [[]];
  if (items.length < size) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, size - 1).map((s) => [first, ...s]), ...subsets(rest, size)];
}

function errorOf(fn: () => unknown): MeterveilError {
  try {
    fn();
  } catch (error) {
    if (error instanceof MeterveilError) return error;
    throw error;
  }
  throw new Error('expected a MeterveilError');
}

for (const [threshold, custodians] of [
  [2, 3],
  [3, 5],
] as const) {
  test(`(${threshold},${custodians}) on a 2048-bit key: every set of ${threshold} custodians decrypts a homomorphic sum`, async (t) => {
    const { publicKey, shares } = testThresholdKeySet(threshold, custodians);
    t.is(publicKey.paillier.bits, 2048);
    const readings = [1234n, 0n, 987654321n, 42n];
    const sum = publicKey.paillier.add(...readings.map((m) => publicKey.paillier.encrypt(m, random)));
    for (const group of subsets(shares, threshold)) {
      const partials = group.map((share) => partialDecrypt(share, sum));
      const result = combinePartials(publicKey, sum, partials);
      t.is(result.plaintext, 987655597n);
      t.deepEqual(
        result.used,
        group.map((s) => s.index),
      );
      t.deepEqual(result.rejected, []);
    }
  });

  test(`(${threshold},${custodians}): ${threshold - 1} partials do not decrypt`, async (t) => {
    const { publicKey, shares } = testThresholdKeySet(threshold, custodians);
    const c = publicKey.paillier.encrypt(777n, random);
    const partials = shares.slice(0, threshold - 1).map((share) => partialDecrypt(share, c));
    const error = errorOf(() => combinePartials(publicKey, c, partials));
    t.is(error.reason, 'not-enough-partials');
    t.regex(error.message, new RegExp(`need ${threshold} valid partial decryptions, have ${threshold - 1}`));
  });
}

test('(2,3): a forged partial is rejected by custodian index and reason', async (t) => {
  const { publicKey, shares } = testThresholdKeySet(2, 3);
  const c = publicKey.paillier.encrypt(5000n, random);
  const honest = shares.map((share) => partialDecrypt(share, c));
  // Custodian 2 answers with its honest proof but a value shifted by a plaintext of 1.
  const forgedValue = publicKey.paillier.addPlain(honest[1].value, 1n);
  const forged = { ...honest[1], value: forgedValue };

  const withEnough = combinePartials(publicKey, c, [honest[0], forged, honest[2]]);
  t.is(withEnough.plaintext, 5000n);
  t.deepEqual(withEnough.used, [1, 3]);
  t.is(withEnough.rejected.length, 1);
  t.is(withEnough.rejected[0].index, 2);
  t.is(withEnough.rejected[0].reason, 'invalid-partial-proof');

  const error = errorOf(() => combinePartials(publicKey, c, [honest[0], forged]));
  t.is(error.reason, 'not-enough-partials');
  t.regex(error.message, /custodian 2: invalid-partial-proof/);
});

test('(2,3): a partial made with a wrong share, for another ciphertext, or twice is rejected', async (t) => {
  const { publicKey, shares } = testThresholdKeySet(2, 3);
  const c = publicKey.paillier.encrypt(10n, random);
  const other = publicKey.paillier.encrypt(10n, random);
  const wrongShare = partialDecrypt({ ...shares[0], share: shares[0].share + 1n }, c);
  const replayed = partialDecrypt(shares[1], other);
  const good = partialDecrypt(shares[2], c);
  const error = errorOf(() => combinePartials(publicKey, c, [wrongShare, replayed, good, good]));
  t.is(error.reason, 'not-enough-partials');
  t.regex(error.message, /custodian 1: invalid-partial-proof; custodian 2: invalid-partial-proof; custodian 3: duplicate-partial/);
});

test('(2,3): a partial for another key is rejected as such', async (t) => {
  const { publicKey, shares } = testThresholdKeySet(2, 3);
  const other = testThresholdKeySet(3, 5);
  const c = publicKey.paillier.encrypt(10n, random);
  const foreign = { ...partialDecrypt(shares[0], c), keyId: other.publicKey.keyId };
  const result = combinePartials(publicKey, c, [foreign, partialDecrypt(shares[1], c), partialDecrypt(shares[2], c)]);
  t.is(result.plaintext, 10n);
  t.deepEqual(
    result.rejected.map((r) => [r.index, r.reason]),
    [[1, 'partial-key-mismatch']],
  );
});

test('(2,3): keys, shares and partials survive their JSON forms; meters read the public key unchanged', async (t) => {
  const { publicKey, shares } = testThresholdKeySet(2, 3);
  const json = JSON.stringify(thresholdPublicKeyToJson(publicKey));
  const plain = publicKeyFromJson(json);
  t.is(plain.n, publicKey.paillier.n);
  t.is(plain.keyId, publicKey.keyId);
  const reread = thresholdPublicKeyFromJson(json);
  t.deepEqual(reread.verificationKeys, publicKey.verificationKeys);
  t.is(reread.v, publicKey.v);

  const share = keyShareFromJson(JSON.stringify(keyShareToJson(shares[1])));
  t.is(share.index, 2);
  t.is(share.share, shares[1].share);

  const c = publicKey.paillier.encrypt(31n, random);
  const partials = [share, shares[2]].map((s) => partialFromJson(JSON.stringify(partialToJson(partialDecrypt(s, c)))));
  t.is(combinePartials(reread, c, partials).plaintext, 31n);
});

test('a single-key public key is refused where a threshold key is required', async (t) => {
  const { publicKey } = testThresholdKeySet(2, 3);
  const { threshold: _, ...plain } = thresholdPublicKeyToJson(publicKey);
  t.is(errorOf(() => thresholdPublicKeyFromJson(plain)).reason, 'not-threshold-key');
});

test('a share whose index does not exist is refused', async (t) => {
  const { shares } = testThresholdKeySet(2, 3);
  const json = { ...keyShareToJson(shares[0]), index: 4 };
  t.is(errorOf(() => keyShareFromJson(json)).reason, 'bad-custodian-index');
});

test('fast property test (toy 256-bit keys): any T of N partials decrypt any plaintext', async (t) => {
  const toyKeys = new Map<string, ThresholdKeySet>();
  for (const [threshold, custodians] of [
    [1, 1],
    [1, 3],
    [2, 2],
    [2, 4],
    [3, 5],
    [4, 6],
  ]) {
    toyKeys.set(`${threshold}/${custodians}`, await generateThresholdKey({ bits: 256, threshold, custodians }));
  }
  fc.assert(
    fc.property(
      fc.constantFrom(...toyKeys.values()),
      fc.bigInt({ min: 0n, max: (1n << 255n) - 1n }),
      fc.integer(),
      ({ publicKey, shares }, m, seed) => {
        const plaintext = m % publicKey.paillier.n;
        const c = publicKey.paillier.encrypt(plaintext, random);
        const chosen = [...shares]
          .sort((a, b) => ((a.index * 7919 + seed) % 13) - ((b.index * 7919 + seed) % 13))
          .slice(0, publicKey.threshold);
        return (
          combinePartials(
            publicKey,
            c,
            chosen.map((s) => partialDecrypt(s, c)),
          ).plaintext === plaintext
        );
      },
    ),
    { numRuns: 60 },
  );
  t.pass();
});

test('modPow through OpenSSL agrees with BigInt exponentiation, including degenerate bases and toy moduli', (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom(521, 1024, 4096, 64),
      fc.bigInt({ min: 0n, max: (1n << 4200n) - 1n }),
      fc.bigInt({ min: 0n, max: (1n << 4700n) - 1n }),
      fc.constantFrom('random', 'zero', 'one', 'minus-one'),
      (bits, seed, exp, kind) => {
        const modulus = (1n << BigInt(bits - 1)) | (seed % (1n << BigInt(bits - 1))) | 1n;
        const base = { random: seed, zero: 0n, one: 1n, 'minus-one': modulus - 1n }[kind];
        return modPow(base, exp, modulus) === createModArith(modulus, 'plain').pow(base % modulus, exp);
      },
    ),
    { numRuns: 40 },
  );
  t.pass();
});

test('custodian sets must overlap for per-custodian differencing checks to hold', (t) => {
  t.true(custodianSetsOverlap(2, 3));
  t.true(custodianSetsOverlap(3, 5));
  t.false(custodianSetsOverlap(2, 4));
  t.false(custodianSetsOverlap(2, 5));
});
