/**
 * The meters' Ed25519 verifier (firmware/keys/ed25519.ts) against OpenSSL's signatures and against
 * @noble/ed25519's own strict verify, whose rules it keeps (fast property tests: Ed25519 only).
 */
import test from 'ava';
import fc from 'fast-check';
import { generateKeyPairSync, sign } from 'node:crypto';
import { sha512 } from '@noble/hashes/sha2.js';
import * as ed from '@noble/ed25519';
import { verifyEd25519 } from '../../firmware/keys/ed25519.ts';

ed.hashes.sha512 = sha512;
const L = ed.Point.CURVE().n;

function opensslKeyPair(): { publicKey: Uint8Array; sign: (message: Uint8Array) => Uint8Array } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = new Uint8Array(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
  return { publicKey: raw, sign: (message) => new Uint8Array(sign(null, message, privateKey)) };
}

function littleEndian(value: bigint, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return bytes;
}

const nobleStrict = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) =>
  ed.verify(signature, message, publicKey, { zip215: false });

test('fast property: OpenSSL signatures verify, and any altered byte of signature, message or key is judged as noble strict judges it', (t) => {
  const keys = Array.from({ length: 4 }, opensslKeyPair);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom('signature', 'message', 'key'),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (k, message, target, at, flip) => {
        const { publicKey, sign: signWith } = keys[k];
        const signature = signWith(message);
        if (!verifyEd25519(signature, message, publicKey)) return false;
        const altered = { signature: signature.slice(), message: message.slice(), key: publicKey.slice() };
        const bytes = altered[target as keyof typeof altered];
        if (bytes.length === 0) return true;
        bytes[at % bytes.length] ^= flip;
        const ours = verifyEd25519(altered.signature, altered.message, altered.key);
        return ours === nobleStrict(altered.signature, altered.message, altered.key) && ours === false;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('strict rules: S + L, a small-order key and a non-canonical key encoding are refused', (t) => {
  const { publicKey, sign: signWith } = opensslKeyPair();
  const message = new TextEncoder().encode('meterveil');
  const signature = signWith(message);
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]);
  const malleable = new Uint8Array([...signature.subarray(0, 32), ...littleEndian(s + L, 32)]);
  t.false(verifyEd25519(malleable, message, publicKey));
  t.false(nobleStrict(malleable, message, publicKey));

  // The identity as key and as R with S = 0 satisfies the verification equation for any message.
  const identity = littleEndian(1n, 32);
  const trivial = new Uint8Array([...identity, ...new Uint8Array(32)]);
  t.false(verifyEd25519(trivial, message, identity));
  t.false(nobleStrict(trivial, message, identity));

  // y = 1 written as p + 1 (>= p): the same point, a non-canonical encoding.
  const nonCanonical = littleEndian(2n ** 255n - 19n + 1n, 32);
  t.false(verifyEd25519(signature, message, nonCanonical));
  t.false(verifyEd25519(signature.subarray(0, 63), message, publicKey));
});
