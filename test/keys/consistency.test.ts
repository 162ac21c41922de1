/**
 * The consistency check that lets the provider combine T + 1 partial decryptions before their
 * proofs are checked (real 2048-bit 2-of-3 key): any single wrong partial is caught wherever it
 * sits; two colluding custodians can forge consistently, and then their proofs fail.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { MeterveilError } from '../../firmware/errors.ts';
import { combineConsistent } from '../../host/threshold/combine.ts';
import { generateThresholdKey } from '../../host/threshold/dealer.ts';
import { partialDecrypt, verifyPartial, type PartialDecryption } from '../../host/threshold/partial.ts';
import { modPow } from '../../host/paillier/openssl-pow.ts';

const random = (length: number) => new Uint8Array(randomBytes(length));
const keySet = generateThresholdKey({ bits: 2048, threshold: 2, custodians: 3 });

async function setup() {
  const { publicKey, shares } = await keySet;
  const c = publicKey.paillier.encrypt(424242n, random);
  return { key: publicKey, c, partials: shares.map((share) => partialDecrypt(share, c)) };
}

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
    return 'none';
  } catch (e) {
    if (e instanceof MeterveilError) return e.reason;
    throw e;
  }
};

test('three honest partials agree and give the plaintext', async (t) => {
  const { key, partials } = await setup();
  t.deepEqual(combineConsistent(key, partials), { plaintext: 424242n, used: [1, 2] });
  t.deepEqual(combineConsistent(key, [partials[2], partials[0], partials[1]]).plaintext, 424242n);
});

test('one wrong partial is caught in every position, whether it keeps the 1 + kn form or not', async (t) => {
  const { key, partials } = await setup();
  const { n, nSquared } = key.paillier;
  const square = modPow(3n, 2n, nSquared);
  for (let i = 0; i < 3; i++) {
    for (const factor of [1n + n, 1n + 5n * n, square]) {
      const forged = partials.map((p, j): PartialDecryption => (j === i ? { ...p, value: (p.value * factor) % nSquared } : p));
      t.is(
        reasonOf(() => combineConsistent(key, forged)),
        'inconsistent-partials',
        `custodian ${i + 1}, factor ${factor === square ? 'square' : 'in 1 + kn'}`,
      );
    }
  }
  // A partial replaced by its negative is the same partial: combination uses only its square.
  const negated = partials.map((p, j) => (j === 1 ? { ...p, value: nSquared - p.value } : p));
  t.is(combineConsistent(key, negated).plaintext, 424242n);
});

test('two colluding custodians can forge consistent partials; their proofs, which the provider checks after combining, fail', async (t) => {
  const { key, c, partials } = await setup();
  const { n, nSquared } = key.paillier;
  // Lagrange coefficients over {1,2} and {2,3}: 2(2x1 - x2) = 2(3x2) holds for x1 = 2, x2 = 1.
  const shift = (p: PartialDecryption, x: bigint) => ({ ...p, value: (p.value * modPow(1n + n, x, nSquared)) % nSquared });
  const forged = [shift(partials[0], 2n), shift(partials[1], 1n), partials[2]];
  const combined = combineConsistent(key, forged);
  t.not(combined.plaintext, 424242n, 'the consistency check alone does not stop a coalition');
  t.is(
    reasonOf(() => verifyPartial(key, c, forged[0])),
    'invalid-partial-proof',
  );
  t.is(
    reasonOf(() => verifyPartial(key, c, forged[1])),
    'invalid-partial-proof',
  );
  t.is(
    reasonOf(() => verifyPartial(key, c, forged[2])),
    'none',
  );
});

test('the check needs exactly T + 1 distinct custodians', async (t) => {
  const { key, partials } = await setup();
  t.is(
    reasonOf(() => combineConsistent(key, partials.slice(0, 2))),
    'not-enough-partials',
  );
  t.is(
    reasonOf(() => combineConsistent(key, [partials[0], partials[0], partials[1]])),
    'duplicate-partial',
  );
});
