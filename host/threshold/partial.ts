/**
 * A custodian's partial decryption c_i = c^(2 Delta s_i) mod n^2, with a proof that it used the
 * same exponent as its published verification key: log_{c^4}(c_i^2) = log_v(v_i) = Delta s_i.
 * The proof is about c_i^2 because only squares are in the cyclic group where the logs are
 * defined; combination uses c_i only squared, so nothing else about c_i matters.
 */
import { concatBytes, hexToBytes } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { checkCiphertext, ciphertextToBytes } from '../../firmware/paillier/codec.ts';
import { randomBytes } from 'node:crypto';
import type { RandomBytes } from '../../firmware/paillier/random.ts';
import { modPow } from '../paillier/openssl-pow.ts';
import {
  drawNonce,
  proveEqualLogs,
  verifyEqualLogs,
  type EqualLogsProof,
  type EqualLogsStatement,
  type PrecomputedNonce,
} from './proof.ts';
import type { KeyShare, ThresholdPublicKey } from './threshold-key.ts';

export interface PartialDecryption {
  keyId: string;
  index: number;
  value: bigint;
  proof: EqualLogsProof;
}

const nodeRandom: RandomBytes = (length) => new Uint8Array(randomBytes(length));

function indexBytes(index: number): Uint8Array {
  return Uint8Array.of(index >>> 24, (index >>> 16) & 255, (index >>> 8) & 255, index & 255);
}

function statementFor(key: ThresholdPublicKey, index: number, c: bigint, value: bigint): EqualLogsStatement {
  const modulus = key.paillier.nSquared;
  const c2 = (c * c) % modulus;
  return {
    modulus,
    g1: (c2 * c2) % modulus,
    h1: (value * value) % modulus,
    g2: key.v,
    h2: key.verificationKey(index),
    context: concatBytes(hexToBytes(key.keyId), indexBytes(index), ciphertextToBytes(key.paillier, c)),
  };
}

/** Delta s_i < Delta n m < Delta n^2: a public bound on the witness. */
function witnessBound(key: ThresholdPublicKey): bigint {
  return key.delta * key.paillier.nSquared;
}

/**
 * A proof nonce with v^nonce computed ahead, for a custodian to prepare in idle time: the other
 * commitment depends on the ciphertext, this one does not.
 */
export function precomputeProofNonce(key: ThresholdPublicKey, random: RandomBytes = nodeRandom): PrecomputedNonce {
  return drawNonce(key.v, key.paillier.nSquared, witnessBound(key), random);
}

/** `precomputed`: from precomputeProofNonce for this key, never used before. */
export function partialDecrypt(
  share: KeyShare,
  c: bigint,
  random: RandomBytes = nodeRandom,
  precomputed?: PrecomputedNonce,
): PartialDecryption {
  const key = share.publicKey;
  checkCiphertext(key.paillier, c);
  const exponent = key.delta * share.share;
  const value = modPow(c, 2n * exponent, key.paillier.nSquared);
  const proof = proveEqualLogs(statementFor(key, share.index, c, value), exponent, witnessBound(key), random, precomputed);
  return { keyId: key.keyId, index: share.index, value, proof };
}

/** The checks that cost nothing: key, index, range. The proof is what makes a partial valid. */
export function checkPartialForm(key: ThresholdPublicKey, partial: PartialDecryption): void {
  const who = `partial decryption from custodian ${partial.index}`;
  if (partial.keyId !== key.keyId) fail('partial-key-mismatch', `${who} is for key ${partial.keyId}, not ${key.keyId}`);
  if (!Number.isInteger(partial.index) || partial.index < 1 || partial.index > key.custodians) {
    fail('bad-custodian-index', `${who}: index must be from 1 to ${key.custodians}`);
  }
  if (partial.value <= 0n || partial.value >= key.paillier.nSquared) fail('partial-out-of-range', `${who} is not in Z_{n^2}`);
}

/** Throws a MeterveilError naming the custodian and the reason; returns nothing when valid. */
export function verifyPartial(key: ThresholdPublicKey, c: bigint, partial: PartialDecryption): void {
  const who = `partial decryption from custodian ${partial.index}`;
  checkPartialForm(key, partial);
  if (!verifyEqualLogs(statementFor(key, partial.index, c, partial.value), partial.proof, witnessBound(key))) {
    fail('invalid-partial-proof', `${who} does not match its verification key for this ciphertext`);
  }
}
