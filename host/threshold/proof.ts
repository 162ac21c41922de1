/**
 * Non-interactive proof that two discrete logarithms are equal, log_g1(h1) = log_g2(h2), in a
 * group of unknown order (Chaum-Pedersen made non-interactive with Fiat-Shamir over SHA-256, in
 * the form Shoup uses for threshold RSA). Because the order is unknown the response is an
 * integer, not reduced: the nonce is longer than witness times challenge by HIDING_BITS, which
 * hides the witness statistically. The response is z = nonce - e * witness, so the verifier
 * rebuilds the commitments as g^z h^e without inverting anything modulo n^2.
 */
import { createHash } from 'node:crypto';
import { bigIntToBytes, bitLength, bytesToBigInt } from '../../firmware/bytes.ts';
import { randomBelow, type RandomBytes } from '../../firmware/paillier/random.ts';
import { modPow } from '../paillier/openssl-pow.ts';

export const CHALLENGE_BITS = 256;
export const HIDING_BITS = 128;
const DOMAIN = new TextEncoder().encode('meterveil/threshold-paillier/v1/equal-logs');

export interface EqualLogsStatement {
  modulus: bigint;
  g1: bigint;
  h1: bigint;
  g2: bigint;
  h2: bigint;
  /** Binds the proof to its purpose (key, custodian, ciphertext) so it cannot be replayed elsewhere. */
  context: Uint8Array;
}

export interface EqualLogsProof {
  challenge: bigint;
  response: bigint;
}

/** Nonce length for a witness below witnessBound. */
export function nonceBits(witnessBound: bigint): number {
  return bitLength(witnessBound) + CHALLENGE_BITS + HIDING_BITS;
}

function challengeFor(statement: EqualLogsStatement, a: bigint, b: bigint): bigint {
  const width = Math.ceil(bitLength(statement.modulus) / 8);
  const hash = createHash('sha256');
  const lengthPrefixed = (bytes: Uint8Array) => {
    hash.update(bigIntToBytes(BigInt(bytes.length), 4));
    hash.update(bytes);
  };
  lengthPrefixed(DOMAIN);
  lengthPrefixed(statement.context);
  for (const value of [statement.modulus, statement.g1, statement.h1, statement.g2, statement.h2, a, b]) {
    lengthPrefixed(bigIntToBytes(value, width));
  }
  return bytesToBigInt(new Uint8Array(hash.digest()));
}

/** A nonce drawn in advance with g2^nonce already computed; used once, then forgotten. */
export interface PrecomputedNonce {
  nonce: bigint;
  g2Power: bigint;
}

export function drawNonce(g2: bigint, modulus: bigint, witnessBound: bigint, random: RandomBytes): PrecomputedNonce {
  const nonce = randomBelow(1n << BigInt(nonceBits(witnessBound)), random);
  return { nonce, g2Power: modPow(g2, nonce, modulus) };
}

/**
 * `precomputed`, if given, must come from drawNonce with this statement's g2, modulus and bound;
 * it saves one of the two exponentiations. It is used for the first attempt only.
 */
export function proveEqualLogs(
  statement: EqualLogsStatement,
  witness: bigint,
  witnessBound: bigint,
  random: RandomBytes,
  precomputed?: PrecomputedNonce,
): EqualLogsProof {
  const { modulus, g1, g2 } = statement;
  let next = precomputed;
  for (;;) {
    const { nonce, g2Power } = next ?? drawNonce(g2, modulus, witnessBound, random);
    next = undefined;
    const challenge = challengeFor(statement, modPow(g1, nonce, modulus), g2Power);
    const response = nonce - challenge * witness;
    // Negative with probability below 2^-HIDING_BITS; a fresh nonce keeps the response a natural number.
    if (response >= 0n) return { challenge, response };
  }
}

/** Recomputes the commitments a = g1^z h1^e and b = g2^z h2^e and checks that they hash to e. */
export function verifyEqualLogs(statement: EqualLogsStatement, proof: EqualLogsProof, witnessBound: bigint): boolean {
  const { modulus, g1, h1, g2, h2 } = statement;
  const { challenge, response } = proof;
  if (challenge < 0n || challenge >= 1n << BigInt(CHALLENGE_BITS)) return false;
  if (response < 0n || response >= 1n << BigInt(nonceBits(witnessBound))) return false;
  const a = (modPow(g1, response, modulus) * modPow(h1, challenge, modulus)) % modulus;
  const b = (modPow(g2, response, modulus) * modPow(h2, challenge, modulus)) % modulus;
  return challengeFor(statement, a, b) === challenge;
}
