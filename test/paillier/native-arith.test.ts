/** The host's OpenSSL-backed exponentiation agrees with BigInt, edge results included. */
import test from 'ava';
import fc from 'fast-check';
import { createModArith } from '../../firmware/paillier/arith.ts';
import { createNativeArith } from '../../host/paillier/native-arith.ts';
import { hexToBig, katKeys } from '../helpers/kat.ts';

const kat = katKeys.find((k) => k.bits === 2048)!;
const p = hexToBig(kat.p);
const n = hexToBig(kat.n);

test('native and plain exponentiation agree on random 2048- and 4096-bit moduli', (t) => {
  for (const modulus of [p * p, n * n]) {
    const native = createNativeArith(modulus);
    const plain = createModArith(modulus, 'plain');
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: modulus + 5n }),
        fc.bigInt({ min: 0n, max: 1n << 2100n }),
        (base, exp) => native.pow(base, exp) === plain.pow(base, exp),
      ),
      { numRuns: 30 },
    );
  }
  t.pass();
});

test('results of 1 and modulus - 1, which OpenSSL refuses as secrets, are still computed', (t) => {
  const modulus = p * p;
  const native = createNativeArith(modulus);
  const rn = hexToBig(kat.encryptions[0].rn) % modulus;
  t.is(native.pow(rn, p - 1n), 1n, 'r^(n(p-1)) = 1 mod p^2');
  t.is(native.pow(modulus - 1n, 3n), modulus - 1n);
  t.is(native.pow(modulus - 1n, 4n), 1n);
  t.is(native.pow(1n, 12345n), 1n);
  t.is(native.pow(0n, 12345n), 0n);
  t.is(native.pow(12345n, 0n), 1n);
});
