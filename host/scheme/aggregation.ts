/**
 * What the aggregators and custodians need of a scheme: how a report's ciphertext is read and
 * checked, how two are combined, and what a closed product must satisfy. Paillier multiplies
 * modulo n^2; the masked scheme (firmware/masked/) adds modulo 2^W. Everything else on the way
 * (MACs, authenticators, de-duplication, the watermark, acknowledgements, the meters' outboxes)
 * is the same code for both.
 */
import { bytesToBigInt, bigIntToBytes } from '../../firmware/bytes.ts';
import { fail, type Reason } from '../../firmware/errors.ts';
import { isMaskedValue, type MaskedParams } from '../../firmware/masked/params.ts';
import { checkCiphertext, ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';

export type SchemeName = 'paillier' | 'masked';

export interface AggregationScheme {
  readonly name: SchemeName;
  /** The key id reports under this scheme carry. */
  readonly keyId: string;
  readonly ciphertextBytes: number;
  /** A report's ciphertext as an element, after the checks that cost nothing (length, range); undefined if they fail. */
  admit(bytes: Uint8Array): bigint | undefined;
  /**
   * Whether an admitted element, or a product of them, holds a factor no report may carry that
   * `admit` lets through (Paillier: a multiple of n, which makes the product 0 mod n). One
   * division: the aggregator asks it of a batch's products, and of each factor only when one is.
   */
  spoiled(element: bigint): boolean;
  /** A ciphertext fully checked (the custodians' evidence); throws its reason otherwise. */
  parse(bytes: Uint8Array): bigint;
  combine(a: bigint, b: bigint): bigint;
  combineAll(elements: readonly bigint[]): bigint;
  /** Why a closed product may not be published (a Paillier product that is not a unit); null: it may. */
  refuseProduct(product: bigint): Reason | null;
  toBytes(element: bigint): Uint8Array;
}

/** bytesToBigInt through Buffer's native hex encoder: the aggregator runs this once per report. */
function fastBytesToBigInt(bytes: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex'));
}

export function paillierScheme(key: PaillierPublicKey): AggregationScheme {
  return {
    name: 'paillier',
    keyId: key.keyId,
    ciphertextBytes: key.ciphertextBytes,
    admit(bytes) {
      if (bytes.length !== key.ciphertextBytes) return undefined;
      // The range only. "Not a multiple of n" (a division, a fifth of a homomorphic addition) is
      // `spoiled`, asked of products; the full unit test (a gcd, ten times an addition) runs once
      // on the product when the slot closes.
      const c = fastBytesToBigInt(bytes);
      return c > 0n && c < key.nSquared ? c : undefined;
    },
    // Only someone who can factor n makes a product 0 mod n of factors that are not (a multiple
    // of p times one of q); the gcd at the slot's close refuses it.
    spoiled: (element) => element % key.n === 0n,
    parse: (bytes) => ciphertextFromBytes(key, bytes),
    combine: (a, b) => key.arith.mul(a, b),
    combineAll: (elements) => key.arith.product(elements),
    refuseProduct(product) {
      try {
        checkCiphertext(key, product);
        return null;
      } catch {
        return 'ciphertext-not-unit';
      }
    },
    // Through Buffer's hex decoder, a tenth of bigIntToBytes's time: once per batch and product, below n^2.
    toBytes: (c) => Buffer.from(c.toString(16).padStart(key.ciphertextBytes * 2, '0'), 'hex'),
  };
}

/** The masked scheme under key id `keyId` (a provisioning generation of the meters' mask keys). */
export function maskedScheme(keyId: string, params: MaskedParams): AggregationScheme {
  const modulus = 1n << BigInt(params.bits);
  const mask = modulus - 1n;
  const admit = (bytes: Uint8Array) => (isMaskedValue(bytes, params) ? bytesToBigInt(bytes) : undefined);
  return {
    name: 'masked',
    keyId,
    ciphertextBytes: params.bytes,
    admit,
    // Every value below 2^W is a sum some reports could give.
    spoiled: () => false,
    parse(bytes) {
      const value = admit(bytes);
      if (value === undefined) fail('ciphertext-out-of-range', `a masked value is ${params.bytes} bytes below 2^${params.bits}`);
      return value;
    },
    combine: (a, b) => (a + b) & mask,
    combineAll: (elements) => elements.reduce((sum, e) => (sum + e) & mask, 0n),
    // Every value below 2^W is a sum some reports could give: nothing to check.
    refuseProduct: () => null,
    toBytes: (v) => bigIntToBytes(v, params.bytes),
  };
}
