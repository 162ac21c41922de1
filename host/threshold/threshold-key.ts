/**
 * Public and per-custodian material of a t-of-n threshold Paillier key (Shoup; Damgard-Jurik
 * with s = 1). The public part is an ordinary Paillier public key (g = n + 1: meters and
 * aggregators cannot tell the difference) plus the verification keys that let anyone check a
 * custodian's partial decryption. No party ever holds the private key: each custodian holds one
 * Shamir share of the decryption exponent d.
 */
import { fail } from '../../firmware/errors.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';

/** Custodian indices are 1..n; n! must stay small for Lagrange coefficients to be cheap. */
export const MAX_CUSTODIANS = 16;

export function factorial(k: number): bigint {
  let out = 1n;
  for (let i = 2n; i <= BigInt(k); i++) out *= i;
  return out;
}

export function checkThresholdParameters(threshold: number, custodians: number): void {
  if (!Number.isInteger(custodians) || custodians < 1 || custodians > MAX_CUSTODIANS) {
    fail('bad-threshold', `custodians must be an integer from 1 to ${MAX_CUSTODIANS}`);
  }
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > custodians) {
    fail('bad-threshold', `threshold must be an integer from 1 to the number of custodians (${custodians})`);
  }
}

/**
 * Each custodian enforces the policy against its own record only. Two aggregates that difference
 * each other are both decrypted only if two sets of `threshold` custodians can avoid each other,
 * i.e. when 2 * threshold <= custodians: then no single custodian sees both requests.
 */
export function custodianSetsOverlap(threshold: number, custodians: number): boolean {
  return 2 * threshold > custodians;
}

/**
 * Refuses a threshold with 2t <= n unless the operator said, by a name that states the danger,
 * that undetectable differencing is acceptable (`allowed`).
 */
export function refuseDisjointQuorums(threshold: number, custodians: number, allowed: boolean, howToAllow: string): void {
  if (allowed || custodianSetsOverlap(threshold, custodians)) return;
  fail(
    'disjoint-quorums',
    `${threshold} of ${custodians}: two disjoint sets of custodians can each decrypt one of two aggregates that difference each other, and no custodian sees both; choose a threshold above ${custodians / 2}, or ${howToAllow}`,
  );
}

export class ThresholdPublicKey {
  readonly paillier: PaillierPublicKey;
  readonly threshold: number;
  readonly custodians: number;
  /** Delta = custodians!, which clears the denominators of the Lagrange coefficients. */
  readonly delta: bigint;
  /** A generator of the squares in Z*_{n^2}. */
  readonly v: bigint;
  /** verificationKeys[i - 1] = v^(Delta s_i) mod n^2 for custodian i. */
  readonly verificationKeys: readonly bigint[];

  constructor(paillier: PaillierPublicKey, threshold: number, custodians: number, v: bigint, verificationKeys: readonly bigint[]) {
    checkThresholdParameters(threshold, custodians);
    if (verificationKeys.length !== custodians)
      fail('malformed-key', `expected ${custodians} verification keys, got ${verificationKeys.length}`);
    for (const value of [v, ...verificationKeys]) {
      if (value <= 1n || value >= paillier.nSquared) fail('malformed-key', 'verification keys must lie in (1, n^2)');
    }
    this.paillier = paillier;
    this.threshold = threshold;
    this.custodians = custodians;
    this.delta = factorial(custodians);
    this.v = v;
    this.verificationKeys = Object.freeze([...verificationKeys]);
  }

  get keyId(): string {
    return this.paillier.keyId;
  }

  verificationKey(index: number): bigint {
    if (!Number.isInteger(index) || index < 1 || index > this.custodians) {
      fail('bad-custodian-index', `custodian index must be from 1 to ${this.custodians}, got ${index}`);
    }
    return this.verificationKeys[index - 1];
  }
}

/** One custodian's share s_i = f(i) of d, where f has degree threshold - 1 over Z_{n m}. */
export interface KeyShare {
  readonly publicKey: ThresholdPublicKey;
  readonly index: number;
  readonly share: bigint;
}
