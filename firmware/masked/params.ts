/**
 * The additively masked scheme (Castelluccia, Mykletun and Tsudik): a meter sends
 * c = packed + mask mod M, an aggregator adds the c's modulo M, and the key holder subtracts the
 * masks of the listed contributors. M is 2^W with W the packing's width (slot bits times readings,
 * firmware/config/packing.ts): a slot is wide enough for the largest reading times the largest
 * group, so the sum of a group's packed plaintexts is below 2^W and the modular sum never wraps.
 * A mask is a one-time pad modulo M, so a ciphertext of any width hides its reading entirely; the
 * width only has to hold the sums.
 */
import { slotPackingFor, type PackingConfig } from '../config/packing.ts';
import { fail } from '../errors.ts';
import type { SlotPacking } from '../paillier/packing.ts';

/**
 * The widest masked value: 4096 bits (512 bytes) keeps a report with 16 authenticators under the
 * report limit (MAX_REPORT_BYTES), and holds 255 readings of 16 bits or a few readings of any
 * packing the config accepts.
 */
export const MASKED_MAX_BITS = 4096;

export interface MaskedParams {
  /** W: values live modulo 2^W. */
  readonly bits: number;
  /** ceil(W / 8): the ciphertext's length in bytes, big-endian. */
  readonly bytes: number;
}

/** The slot packing of a masked deployment: the same slot widths as Paillier's, at most MASKED_MAX_BITS in all. */
export function maskedPackingFor(slotSeconds: number, packing: PackingConfig): SlotPacking {
  return slotPackingFor(slotSeconds, packing, MASKED_MAX_BITS + 1);
}

export function maskedParamsOf(packing: SlotPacking): MaskedParams {
  const bits = packing.slotBits * packing.readings;
  if (bits < 1 || bits > MASKED_MAX_BITS) fail('packing-does-not-fit', `a masked value of ${bits} bits, at most ${MASKED_MAX_BITS}`);
  return { bits, bytes: Math.ceil(bits / 8) };
}

/** The bits of the first byte a value modulo 2^W may use. */
function topMask(params: MaskedParams): number {
  const spare = params.bytes * 8 - params.bits;
  return 0xff >> spare;
}

/** Clears the bits above W, in place: the value modulo 2^W. */
export function reduce(value: Uint8Array, params: MaskedParams): Uint8Array {
  value[0] &= topMask(params);
  return value;
}

/** Whether bytes are a value modulo 2^W in its one encoding: the length, and nothing above W. */
export function isMaskedValue(value: Uint8Array, params: MaskedParams): boolean {
  return value.length === params.bytes && (value[0] & ~topMask(params)) === 0;
}

/** (a + b) mod 2^W, byte by byte from the low end: no BigInt, so it runs on meters without one. */
export function addMod(a: Uint8Array, b: Uint8Array, params: MaskedParams): Uint8Array {
  const out = new Uint8Array(params.bytes);
  let carry = 0;
  for (let i = params.bytes - 1; i >= 0; i--) {
    const s = a[i] + b[i] + carry;
    out[i] = s & 255;
    carry = s >> 8;
  }
  return reduce(out, params);
}

/** (a - b) mod 2^W. */
export function subMod(a: Uint8Array, b: Uint8Array, params: MaskedParams): Uint8Array {
  const out = new Uint8Array(params.bytes);
  let borrow = 0;
  for (let i = params.bytes - 1; i >= 0; i--) {
    const d = a[i] - b[i] - borrow;
    out[i] = d & 255;
    borrow = d < 0 ? 1 : 0;
  }
  return reduce(out, params);
}
