/**
 * Several non-negative readings in one plaintext, one slot each. A slot is wide enough for the
 * largest reading times the largest number of ciphertexts that will ever be summed, so the sum of
 * packed plaintexts is the slot-wise sum of readings: no slot carries into its neighbour, and the
 * whole never wraps modulo n.
 */
import { bitLength } from '../bytes.ts';
import { fail } from '../errors.ts';

export interface PackingBounds {
  /** Largest value one reading may take. */
  maxReading: bigint;
  /** Largest number of packed plaintexts that will ever be added together. */
  maxSummands: number;
  /** Readings per plaintext. */
  readings: number;
  /** Bit length of n. */
  modulusBits: number;
}

export class SlotPacking {
  readonly slotBits: number;
  readonly readings: number;
  readonly maxReading: bigint;
  readonly maxSummands: number;
  private readonly slotMask: bigint;

  private constructor(bounds: PackingBounds, slotBits: number) {
    this.slotBits = slotBits;
    this.readings = bounds.readings;
    this.maxReading = bounds.maxReading;
    this.maxSummands = bounds.maxSummands;
    this.slotMask = (1n << BigInt(slotBits)) - 1n;
  }

  static forBounds(bounds: PackingBounds): SlotPacking {
    const { maxReading, maxSummands, readings, modulusBits } = bounds;
    if (typeof maxReading !== 'bigint' || maxReading < 1n) fail('bad-packing', 'maxReading must be a positive BigInt');
    if (!Number.isInteger(maxSummands) || maxSummands < 1) fail('bad-packing', 'maxSummands must be a positive integer');
    if (!Number.isInteger(readings) || readings < 1 || readings > 255) fail('bad-packing', 'readings must be 1..255');
    const slotBits = bitLength(maxReading * BigInt(maxSummands));
    // Below n: the top bit of n is the only one guaranteed, so stay one bit under it.
    if (slotBits * readings > modulusBits - 1) {
      fail('packing-does-not-fit', `${readings} slots of ${slotBits} bits exceed the ${modulusBits - 1} usable bits of n`);
    }
    return new SlotPacking(bounds, slotBits);
  }

  pack(values: readonly bigint[]): bigint {
    if (values.length !== this.readings) fail('wrong-reading-count', `expected ${this.readings} readings, got ${values.length}`);
    let plain = 0n;
    for (let i = values.length - 1; i >= 0; i--) {
      const v = values[i];
      if (typeof v !== 'bigint' || v < 0n || v > this.maxReading) {
        fail('reading-out-of-range', `reading ${i} must be in [0, ${this.maxReading}]`);
      }
      plain = (plain << BigInt(this.slotBits)) | v;
    }
    return plain;
  }

  /** Slot-wise sums from a decrypted sum of packed plaintexts. */
  unpack(plain: bigint): bigint[] {
    if (plain < 0n || plain >> BigInt(this.slotBits * this.readings) !== 0n) {
      fail('packed-overflow', 'plaintext is larger than the packed slots allow: too many summands or a corrupt value');
    }
    const out: bigint[] = [];
    for (let i = 0; i < this.readings; i++) {
      out.push(plain & this.slotMask);
      plain >>= BigInt(this.slotBits);
    }
    return out;
  }
}
