import test from 'ava';
import { createSquareModArith } from '../../firmware/paillier/arith.ts';
import { ciphertextFromHex, ciphertextToHex, publicKeyFromJson, publicKeyToJson } from '../../firmware/paillier/codec.ts';
import { deriveKeyId } from '../../firmware/paillier/key-id.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { PaillierPrivateKey } from '../../host/paillier/private-key.ts';
import { fixedRandom, hexToBig, katKeys } from '../helpers/kat.ts';

for (const kat of katKeys) {
  const n = hexToBig(kat.n);
  const key = new PaillierPublicKey(n);
  const priv = new PaillierPrivateKey(hexToBig(kat.p), hexToBig(kat.q));
  const ct = (hex: string) => ciphertextFromHex(key, hex);

  test(`${kat.bits}-bit: key id is the first 8 bytes of SHA-256(n)`, (t) => {
    t.is(deriveKeyId(n), kat.keyId);
    t.is(key.keyId, kat.keyId);
    t.deepEqual(publicKeyToJson(publicKeyFromJson(publicKeyToJson(key))), { scheme: 'paillier', version: 1, keyId: kat.keyId, n: kat.n });
  });

  test(`${kat.bits}-bit: r^n and scalar products match the vectors in every arithmetic`, (t) => {
    for (const kind of ['base-root', 'montgomery', 'plain'] as const) {
      const arith = createSquareModArith(n, kind);
      t.is(
        arith.pow(hexToBig(kat.mulPlain.c), BigInt(kat.mulPlain.k)).toString(16).padStart(kat.mulPlain.result.length, '0'),
        kat.mulPlain.result,
        kind,
      );
      for (const v of kat.encryptions) t.is(arith.pow(hexToBig(v.r), n).toString(16), v.rn, `${kind} r=${v.r}`);
    }
  });

  test(`${kat.bits}-bit: encryption with precomputed r^n and with injected r matches the vectors`, (t) => {
    for (const v of kat.encryptions) {
      t.is(ciphertextToHex(key, key.encryptWithRn(BigInt(v.m), hexToBig(v.rn))), v.c);
      t.is(ciphertextToHex(key, key.encrypt(BigInt(v.m), fixedRandom(hexToBig(v.r)))), v.c);
    }
  });

  test(`${kat.bits}-bit: homomorphic operations match the vectors`, (t) => {
    t.is(ciphertextToHex(key, key.add(ct(kat.add.a), ct(kat.add.b))), kat.add.sum);
    t.is(ciphertextToHex(key, key.addPlain(ct(kat.addPlain.c), BigInt(kat.addPlain.k))), kat.addPlain.result);
    t.is(ciphertextToHex(key, key.mulPlain(ct(kat.mulPlain.c), BigInt(kat.mulPlain.k))), kat.mulPlain.result);
    const rn = key.arith.pow(BigInt(kat.rerandomize.r), n);
    t.is(ciphertextToHex(key, key.rerandomize(ct(kat.rerandomize.c), rn)), kat.rerandomize.result);
  });

  test(`${kat.bits}-bit: CRT decryption agrees with textbook decryption`, (t) => {
    for (const v of kat.encryptions) t.is(priv.decrypt(ct(v.c)).toString(), v.m);
    for (const op of [kat.add, kat.addPlain, kat.mulPlain, kat.rerandomize]) {
      const result = 'sum' in op ? op.sum : op.result;
      t.is(priv.decrypt(ct(result)).toString(), op.plain);
    }
  });

  test(`${kat.bits}-bit: short-exponent randomness hs^a and its ciphertexts match the vectors; CRT decryption recovers them`, (t) => {
    const se = kat.shortExponent;
    const shortExponent = { hs: hexToBig(se.hs), exponentBits: se.exponentBits };
    for (const kind of ['base-root', 'montgomery', 'plain'] as const) {
      const djn = new PaillierPublicKey(n, { arith: kind, shortExponent });
      for (const v of se.encryptions) {
        t.is(djn.precomputeRn(fixedRandom(hexToBig(v.a))).toString(16), v.hsa, `${kind} a=${v.a}`);
        t.is(ciphertextToHex(djn, djn.encrypt(BigInt(v.m), fixedRandom(hexToBig(v.a)))), v.c, `${kind} a=${v.a}`);
      }
    }
    for (const v of se.encryptions) t.is(priv.decrypt(ct(v.c)).toString(), v.m);
    const json = publicKeyToJson(new PaillierPublicKey(n, { shortExponent }));
    t.deepEqual(json, { scheme: 'paillier', version: 2, keyId: kat.keyId, n: kat.n, hs: se.hs, exponentBits: se.exponentBits });
    t.true(publicKeyFromJson(json).sameKeyAs(new PaillierPublicKey(n, { shortExponent })));
  });
}
