/**
 * What a custodian holds, and the answer it gives for an aggregate it verified and the policy
 * allows: a share of each Paillier key (a partial decryption), or, in a masked deployment, its
 * mask key of every meter per key id (the sum of its masks for the aggregate's contributors,
 * host/scheme/unmask.ts). Everything before the answer (evidence, policy, once) is the same.
 */
import type { MaskedParams } from '../../firmware/masked/params.ts';
import { bigIntToHex } from '../../firmware/paillier/codec.ts';
import type { Aggregate } from '../protocol/aggregate.ts';
import { maskedScheme, paillierScheme, type AggregationScheme } from '../scheme/aggregation.ts';
import { maskSum } from '../scheme/unmask.ts';
import { partialToJson, type PartialDecryptionJson } from '../threshold/codec.ts';
import type { ProofNoncePool } from '../threshold/nonce-pool.ts';
import { partialDecrypt } from '../threshold/partial.ts';
import type { KeyShare } from '../threshold/threshold-key.ts';
import { checkedShares } from './shares.ts';

export type HoldingAnswer = { status: 'partial'; partial: PartialDecryptionJson } | { status: 'mask-sum'; maskSum: string };

export interface Holding {
  /** This custodian's index: which authenticator of each report, and which mask key, is its own. */
  readonly index: number;
  readonly keyIds: readonly string[];
  /** The scheme of a key id it holds; undefined for any other. */
  scheme(keyId: string): AggregationScheme | undefined;
  /** The answer for an aggregate that verified and passed the policy; throws a MeterveilError to refuse. */
  answer(aggregate: Aggregate): HoldingAnswer;
}

export function shareHolding(shares: readonly KeyShare[], nonces?: ReadonlyMap<string, ProofNoncePool>): Holding {
  const byKey = checkedShares(shares);
  const schemes = new Map([...byKey].map(([id, share]) => [id, paillierScheme(share.publicKey.paillier)]));
  return {
    index: shares[0].index,
    keyIds: [...byKey.keys()],
    scheme: (keyId) => schemes.get(keyId),
    answer(aggregate) {
      const share = byKey.get(aggregate.keyId)!;
      const c = schemes.get(aggregate.keyId)!.parse(aggregate.ciphertext);
      return { status: 'partial', partial: partialToJson(partialDecrypt(share, c, undefined, nonces?.get(aggregate.keyId)?.take())) };
    },
  };
}

/** maskKey: this custodian's mask key of a meter for a key id (host/config/secrets.ts meterMaskKey, holder = index). */
export function maskHolding(
  index: number,
  keyIds: readonly string[],
  params: MaskedParams,
  maskKey: (meterId: string, keyId: string) => Uint8Array | undefined,
): Holding {
  const schemes = new Map(keyIds.map((id) => [id, maskedScheme(id, params)]));
  return {
    index,
    keyIds,
    scheme: (keyId) => schemes.get(keyId),
    answer(aggregate) {
      const sum = maskSum((m) => maskKey(m, aggregate.keyId), aggregate.contributors, aggregate.keyId, aggregate.slot, params);
      return { status: 'mask-sum', maskSum: bigIntToHex(sum) };
    },
  };
}
