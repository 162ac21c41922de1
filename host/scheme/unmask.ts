/**
 * The key holder's side of the masked scheme: the sum of its masks for an aggregate's listed
 * contributors, and the total once every holder's sum is subtracted. A holder computes masks for
 * the contributors of an aggregate that passed the policy only, once per (group, slot, key id),
 * as Paillier's key holders decrypt: masks for a subset of them would difference.
 */
import { bytesToBigInt } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { maskOf } from '../../firmware/masked/mask.ts';
import type { MaskedParams } from '../../firmware/masked/params.ts';
import { nodeHmacSha256 } from '../protocol/mac.ts';

/** This holder's masks of `contributors` for (keyId, slot), summed modulo 2^W. */
export function maskSum(
  keyOf: (meterId: string) => Uint8Array | undefined,
  contributors: readonly string[],
  keyId: string,
  slot: number,
  params: MaskedParams,
): bigint {
  const modulus = 1n << BigInt(params.bits);
  let sum = 0n;
  for (const meterId of contributors) {
    const key = keyOf(meterId) ?? fail('secrets-missing', `no mask key ${keyId} of meter ${meterId}`);
    sum += bytesToBigInt(maskOf(key, keyId, slot, params, nodeHmacSha256));
  }
  return sum % modulus;
}

/** The packed total: the aggregate's sum minus every holder's mask sum, modulo 2^W. */
export function unmask(aggregate: bigint, maskSums: readonly bigint[], params: MaskedParams): bigint {
  const modulus = 1n << BigInt(params.bits);
  let total = aggregate;
  for (const s of maskSums) total -= s;
  return ((total % modulus) + modulus) % modulus;
}
