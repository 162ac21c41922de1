/** Every malformed, truncated or out-of-range input is refused with a named reason. */
import test from 'ava';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterveilError, type Reason } from '../../firmware/errors.ts';
import {
  ciphertextFromBytes,
  ciphertextFromHex,
  ciphertextToHex,
  isCiphertextShaped,
  publicKeyFromJson,
  publicKeyToJson,
} from '../../firmware/paillier/codec.ts';
import { SlotPacking } from '../../firmware/paillier/packing.ts';
import { RandomnessPool } from '../../firmware/paillier/pool.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { randomUnit } from '../../firmware/paillier/random.ts';
import { privateKeyFromJson, privateKeyToJson, readPrivateKeyFile, writeKeyPair } from '../../host/paillier/key-files.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { PaillierPrivateKey } from '../../host/paillier/private-key.ts';
import { hexToBig, katKeys } from '../helpers/kat.ts';

const kat = katKeys.find((k) => k.bits === 2048)!;
const priv = new PaillierPrivateKey(hexToBig(kat.p), hexToBig(kat.q));
const key = priv.publicKey;
const good = publicKeyToJson(key);

function refuses(t: import('ava').ExecutionContext, fn: () => unknown, reason: Reason) {
  const e = t.throws(fn, { instanceOf: MeterveilError });
  t.is(e?.reason, reason, e?.message);
}

test('public key decoder refuses malformed keys by name', (t) => {
  refuses(t, () => publicKeyFromJson('{not json'), 'malformed-key');
  refuses(t, () => publicKeyFromJson('[]'), 'malformed-key');
  refuses(t, () => publicKeyFromJson({ ...good, scheme: 'rsa' }), 'unsupported-key');
  refuses(t, () => publicKeyFromJson({ ...good, version: 3 }), 'unsupported-key');
  refuses(t, () => publicKeyFromJson({ ...good, version: 2 }), 'malformed-key');
  refuses(t, () => publicKeyFromJson({ ...good, hs: 'abc', exponentBits: 1024 }), 'malformed-key');
  const hs = katKeys.find((k) => k.bits === 2048)!.shortExponent.hs;
  const v2 = { ...good, version: 2, hs, exponentBits: 1024 };
  t.is(publicKeyFromJson(v2).shortExponent?.exponentBits, 1024);
  refuses(t, () => publicKeyFromJson({ ...v2, hs: 'HS' }), 'malformed-key');
  refuses(t, () => publicKeyFromJson({ ...v2, exponentBits: '1024' }), 'malformed-key');
  refuses(t, () => publicKeyFromJson({ ...v2, exponentBits: 1023 }), 'bad-short-exponent');
  refuses(t, () => publicKeyFromJson({ ...v2, exponentBits: 2049 }), 'bad-short-exponent');
  refuses(t, () => publicKeyFromJson({ ...v2, hs: '1' }), 'bad-short-exponent');
  refuses(t, () => publicKeyFromJson({ ...v2, hs: good.n }), 'bad-short-exponent');
  refuses(t, () => publicKeyFromJson({ ...v2, hs: (key.nSquared + 2n).toString(16) }), 'bad-short-exponent');
  refuses(t, () => publicKeyFromJson({ ...good, keyId: 'ABCDEF0123456789' }), 'malformed-key');
  refuses(t, () => publicKeyFromJson({ ...good, keyId: '0000000000000000' }), 'key-id-mismatch');
  refuses(t, () => publicKeyFromJson({ ...good, n: '0x' + good.n }), 'malformed-key');
  refuses(t, () => publicKeyFromJson({ ...good, n: good.n.toUpperCase() }), 'malformed-key');
  refuses(t, () => publicKeyFromJson({ ...good, n: '00' + good.n }), 'malformed-key');
  refuses(t, () => publicKeyFromJson({ ...good, n: good.n.slice(0, -1) + 'e' }), 'malformed-key');
  t.is(publicKeyFromJson({ ...good, threshold: { t: 2 } }).keyId, kat.keyId);
});

test('ciphertext decoder refuses wrong lengths, bad hex and values outside Z*_{n^2}', (t) => {
  const c = key.encryptWithRn(5n, key.arith.pow(3n, key.n));
  const hex = ciphertextToHex(key, c);
  t.is(ciphertextFromHex(key, hex), c);
  refuses(t, () => ciphertextFromHex(key, hex.slice(2)), 'ciphertext-length');
  refuses(t, () => ciphertextFromHex(key, hex + '00'), 'ciphertext-length');
  refuses(t, () => ciphertextFromHex(key, hex.toUpperCase()), 'malformed-ciphertext');
  refuses(t, () => ciphertextFromHex(key, 'zz' + hex.slice(2)), 'malformed-ciphertext');
  refuses(t, () => ciphertextFromHex(key, '0'.repeat(hex.length)), 'ciphertext-out-of-range');
  refuses(t, () => ciphertextFromHex(key, 'f'.repeat(hex.length)), 'ciphertext-out-of-range');
  refuses(t, () => ciphertextFromHex(key, ciphertextToHex(key, key.n * 12345n)), 'ciphertext-out-of-range');
  refuses(t, () => ciphertextFromHex(key, ciphertextToHex(key, priv.p * 7n)), 'ciphertext-out-of-range');
  refuses(t, () => ciphertextFromBytes(key, new Uint8Array(10)), 'ciphertext-length');
  t.false(isCiphertextShaped(key, key.n * 3n));
  t.false(isCiphertextShaped(key, key.nSquared));
  t.true(isCiphertextShaped(key, c));
});

test('plaintexts outside [0, n) are refused rather than wrapped', (t) => {
  const rn = key.arith.pow(3n, key.n);
  refuses(t, () => key.encryptWithRn(-1n, rn), 'plaintext-out-of-range');
  refuses(t, () => key.encryptWithRn(key.n, rn), 'plaintext-out-of-range');
  refuses(t, () => key.mulPlain(rn, key.n + 1n), 'plaintext-out-of-range');
});

test('an empty pool is an error, never a reuse', (t) => {
  const small = new PaillierPublicKey(hexToBig(katKeys[0].n));
  let counter = 1;
  const pool = new RandomnessPool(small, (len) => new Uint8Array(len).fill(counter++), 2);
  t.is(pool.refill(), 2);
  t.false(pool.refillOne());
  const a = pool.take();
  const b = pool.take();
  t.not(a, b);
  refuses(t, () => pool.take(), 'pool-empty');
  refuses(t, () => new RandomnessPool(small, () => new Uint8Array(0), 0), 'bad-pool-capacity');
});

test('a broken random source is detected, not trusted', (t) => {
  refuses(t, () => randomUnit(key.n, (len) => new Uint8Array(len)), 'bad-random-source');
  refuses(t, () => randomUnit(key.n, () => new Uint8Array(3)), 'bad-random-source');
});

test('packing refuses out-of-range readings, wrong counts, layouts that do not fit and overflowing sums', (t) => {
  const packing = SlotPacking.forBounds({ maxReading: 1000n, maxSummands: 100, readings: 4, modulusBits: 2048 });
  t.is(packing.slotBits, 17);
  refuses(t, () => packing.pack([1n, 2n, 3n]), 'wrong-reading-count');
  refuses(t, () => packing.pack([1n, 2n, 3n, 1001n]), 'reading-out-of-range');
  refuses(t, () => packing.pack([1n, -2n, 3n, 4n]), 'reading-out-of-range');
  refuses(t, () => packing.unpack(1n << 68n), 'packed-overflow');
  refuses(
    t,
    () => SlotPacking.forBounds({ maxReading: 1n << 100n, maxSummands: 1 << 20, readings: 20, modulusBits: 2048 }),
    'packing-does-not-fit',
  );
  refuses(t, () => SlotPacking.forBounds({ maxReading: 0n, maxSummands: 1, readings: 1, modulusBits: 2048 }), 'bad-packing');
});

test('private key decoder refuses keys whose primes do not match n', (t) => {
  const json = privateKeyToJson(priv);
  t.is(privateKeyFromJson(json).decrypt(key.encryptWithRn(77n, key.arith.pow(5n, key.n))), 77n);
  refuses(t, () => privateKeyFromJson({ ...json, p: json.q }), 'bad-private-key');
  refuses(t, () => privateKeyFromJson({ ...json, p: undefined }), 'malformed-key');
});

test('key files: private key mode 0600, never overwritten, unreadable files named', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'meterveil-keys-')), 'keys');
  const pair = testKeyPair();
  const { privatePath, publicPath } = writeKeyPair(dir, pair);
  t.is(statSync(privatePath).mode & 0o777, 0o600);
  t.is(readPrivateKeyFile(privatePath).publicKey.keyId, pair.publicKey.keyId);
  t.is(pair.publicKey.bits, 2048);
  t.is(pair.privateKey.p.toString(2).length, 1024);
  t.is(pair.privateKey.q.toString(2).length, 1024);
  refuses(t, () => writeKeyPair(dir, pair), 'key-exists');
  refuses(t, () => readPrivateKeyFile(join(dir, 'missing.json')), 'key-file-unreadable');
  refuses(t, () => readPrivateKeyFile(publicPath), 'malformed-key');
});
