/** Interoperability with the npm package paillier-bigint, in both directions, on 2048-bit keys. */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import * as paillierBigint from 'paillier-bigint';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { PaillierPrivateKey } from '../../host/paillier/private-key.ts';
import { hexToBig, katKeys } from '../helpers/kat.ts';

const random = (length: number) => new Uint8Array(randomBytes(length));
const kat = katKeys.find((k) => k.bits === 2048)!;
const p = hexToBig(kat.p);
const q = hexToBig(kat.q);
const n = p * q;
const ours = new PaillierPrivateKey(p, q);
const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
const theirPublic = new paillierBigint.PublicKey(n, n + 1n);
const theirPrivate = new paillierBigint.PrivateKey(lambda, modInverseSlow(lambda, n), theirPublic, p, q);
const values = [0n, 1n, 59_999n, 2n ** 64n + 17n, n - 1n];

function gcd(a: bigint, b: bigint): bigint {
  return b === 0n ? a : gcd(b, a % b);
}

function modPowSlow(base: bigint, exp: bigint, m: bigint): bigint {
  let [acc, b, e] = [1n, base % m, exp];
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) acc = (acc * b) % m;
  return acc;
}

// With g = n + 1, L(g^lambda mod n^2) = lambda mod n, so mu = lambda^-1 mod n.
function modInverseSlow(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const k = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - k * r1, s1, s0 - k * s1];
  }
  return ((s0 % m) + m) % m;
}

test('our ciphertexts decrypt with paillier-bigint', (t) => {
  const key = new PaillierPublicKey(n);
  for (const m of values) t.is(theirPrivate.decrypt(key.encrypt(m, random)), m);
  t.is(theirPrivate.decrypt(key.add(...values.slice(1, 4).map((m) => key.encrypt(m, random)))), values[1] + values[2] + values[3]);
});

test('short-exponent ciphertexts (randomness hs^a) decrypt with paillier-bigint, one by one and summed', (t) => {
  const y = 7n;
  const key = new PaillierPublicKey(n, { shortExponent: { hs: modPowSlow(n - ((y * y) % n), n, n * n), exponentBits: 1024 } });
  for (const m of values) t.is(theirPrivate.decrypt(key.encrypt(m, random)), m);
  t.is(theirPrivate.decrypt(key.add(...values.slice(1, 4).map((m) => key.encrypt(m, random)))), values[1] + values[2] + values[3]);
});

test("paillier-bigint's ciphertexts decrypt with ours, sums and scalar products included", (t) => {
  const key = ours.publicKey;
  for (const m of values) t.is(ours.decrypt(theirPublic.encrypt(m)), m);
  const theirs = values.slice(1, 4).map((m) => theirPublic.encrypt(m));
  t.is(ours.decrypt(key.add(...theirs)), values[1] + values[2] + values[3]);
  t.is(ours.decrypt(theirPublic.addition(...theirs)), values[1] + values[2] + values[3]);
  t.is(ours.decrypt(key.mulPlain(theirs[1], 9n)), values[2] * 9n);
});
