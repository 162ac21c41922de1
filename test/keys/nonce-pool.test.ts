/**
 * Proof nonces prepared ahead by a custodian (real 2048-bit 2-of-3 key): a partial proved with
 * one verifies like any other, each nonce is handed out once, and the pool stops at capacity.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { MeterveilError } from '../../firmware/errors.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';
import { ProofNoncePool } from '../../host/threshold/nonce-pool.ts';
import { partialDecrypt, verifyPartial } from '../../host/threshold/partial.ts';

const random = (length: number) => new Uint8Array(randomBytes(length));

test('partials proved with precomputed nonces verify; nonces are never handed out twice', async (t) => {
  const { publicKey, shares } = testThresholdKeySet(2, 3);
  const pool = new ProofNoncePool(publicKey, 2);
  t.true(pool.refillOne());
  t.true(pool.refillOne());
  t.false(pool.refillOne(), 'full at capacity');
  const first = pool.take()!;
  const second = pool.take()!;
  t.not(first.nonce, second.nonce);
  t.is(pool.take(), undefined, 'each nonce once');

  const c = publicKey.paillier.encrypt(777n, random);
  const partial = partialDecrypt(shares[0], c, undefined, first);
  t.notThrows(() => verifyPartial(publicKey, c, partial));
  // A partial passed off as another custodian's fails its proof, pooled nonce or not.
  const forged = { ...partialDecrypt(shares[1], c, undefined, second), index: 1 };
  const error = t.throws(() => verifyPartial(publicKey, c, forged), { instanceOf: MeterveilError });
  t.is(error!.reason, 'invalid-partial-proof');
});
