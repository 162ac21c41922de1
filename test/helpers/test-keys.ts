/**
 * Committed 2048-bit test-only keys (test/vectors/*.test-only.json, written by
 * tools/vectors/test-keys.ts), so that tests use real-size keys without generating safe primes on
 * every run. Only tests whose subject is key generation generate their own.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bigIntFromHex } from '../../firmware/paillier/codec.ts';
import { privateKeyFromJson } from '../../host/paillier/key-files.ts';
import type { KeyMode, KeyPair } from '../../host/paillier/keygen.ts';
import { PaillierPrivateKey } from '../../host/paillier/private-key.ts';
import { thresholdPublicKeyFromJson } from '../../host/threshold/codec.ts';
import type { ThresholdKeySet } from '../../host/threshold/dealer.ts';

const vectors = (name: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../vectors/${name}`, import.meta.url)), 'utf8'));

let thresholdSets: ThresholdKeySet[] | undefined;
let keyPairs: KeyPair[] | undefined;

function allThresholdSets(): ThresholdKeySet[] {
  return (thresholdSets ??= (vectors('threshold-keys.test-only.json').sets as { publicKey: unknown; shares: string[] }[]).map((set) => {
    const publicKey = thresholdPublicKeyFromJson(set.publicKey);
    return { publicKey, shares: set.shares.map((hex, i) => ({ publicKey, index: i + 1, share: bigIntFromHex(hex, 'test share') })) };
  }));
}

/** `count` distinct t-of-n key sets (default one), the same ones on every run. */
export function testThresholdKeySets(threshold: number, custodians: number, count = 1): ThresholdKeySet[] {
  const sets = allThresholdSets().filter((s) => s.publicKey.threshold === threshold && s.publicKey.custodians === custodians);
  if (sets.length < count) throw new Error(`the test vectors hold ${sets.length} ${threshold}-of-${custodians} key sets, not ${count}`);
  return sets.slice(0, count);
}

export const testThresholdKeySet = (threshold: number, custodians: number): ThresholdKeySet =>
  testThresholdKeySets(threshold, custodians)[0];

/**
 * Key pair `index` (0 is the pipeline harness's shared pair: take others where a test needs a
 * different key): a short-exponent (version 2) key, or with 'classic' the same primes as a
 * version-1 key, which means classic r^n.
 */
export function testKeyPair(index = 0, mode: KeyMode = 'short-exponent'): KeyPair {
  if (mode === 'classic') {
    const { p, q } = testKeyPair(index).privateKey;
    const privateKey = new PaillierPrivateKey(p, q);
    return { publicKey: privateKey.publicKey, privateKey };
  }
  keyPairs ??= (vectors('paillier-keys.test-only.json').pairs as unknown[]).map((json) => {
    const privateKey = privateKeyFromJson(json);
    return { publicKey: privateKey.publicKey, privateKey };
  });
  if (index >= keyPairs.length) throw new Error(`the test vectors hold ${keyPairs.length} key pairs, not ${index + 1}`);
  return keyPairs[index];
}
