/**
 * The masked scheme's packing without BigInt, for meters that have none (Espruino): the slot width
 * and the value width derived from the same configuration fields as SlotPacking and
 * maskedParamsOf, and the readings packed straight into the W-bit big-endian bytes that
 * bigIntToBytes(SlotPacking.pack(readings)) gives (test/firmware/masked-layout.test.ts checks the
 * two agree). Every number stays an exact integer below 2^53: products are taken in 16-bit limbs,
 * and a reading is split into bytes by division by powers of two, never by shifts past 32 bits.
 */
import { subSlotMs, type PackingConfig } from '../config/packing.ts';
import { fail } from '../errors.ts';
import { maxReadingMwh } from '../meter/energy.ts';
import { MASKED_MAX_BITS, type MaskedParams } from './params.ts';

export interface MaskedLayout extends MaskedParams {
  /** Bits of one reading's slot: the bit length of maxReading times maxGroupSize. */
  readonly slotBits: number;
  readonly readings: number;
  /** The largest reading a sub-slot gives (full power for the whole sub-slot, plus the carry). */
  readonly maxReading: number;
}

const LIMB = 65536;
/** 2^53 - 1: beyond it a double no longer holds every integer. */
const MAX_EXACT = 9007199254740991;

function isCount(value: number, max: number): boolean {
  return typeof value === 'number' && value >= 0 && value <= max && Math.floor(value) === value;
}

/** Little-endian 16-bit limbs of an exact non-negative integer. */
function limbsOf(value: number): number[] {
  const out: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / LIMB)) out.push(rest % LIMB);
  return out;
}

/** The bit length of a times b, for exact integers a and b below 2^32: limb by limb, no product above 2^48. */
export function productBitLength(a: number, b: number): number {
  if (!isCount(a, 0xffffffff) || !isCount(b, 0xffffffff)) fail('bad-packing', 'factors must be integers in 0..2^32-1');
  const x = limbsOf(a);
  const y = limbsOf(b);
  const product: number[] = [];
  for (let i = 0; i < x.length + y.length; i++) product.push(0);
  for (let i = 0; i < x.length; i++) {
    let carry = 0;
    for (let j = 0; j < y.length; j++) {
      const t = product[i + j] + x[i] * y[j] + carry;
      product[i + j] = t % LIMB;
      carry = Math.floor(t / LIMB);
    }
    for (let k = i + y.length; carry > 0; k++) {
      const t = product[k] + carry;
      product[k] = t % LIMB;
      carry = Math.floor(t / LIMB);
    }
  }
  let top = product.length - 1;
  while (top >= 0 && product[top] === 0) top--;
  if (top < 0) return 0;
  let bits = 0;
  for (let v = product[top]; v > 0; v = Math.floor(v / 2)) bits++;
  return top * 16 + bits;
}

/** The masked layout of a deployment's slot length and packing fields: what maskedPackingFor and maskedParamsOf derive. */
export function maskedLayoutFor(slotSeconds: number, packing: PackingConfig): MaskedLayout {
  const maxReading = maxReadingMwh(packing.maxPowerWatts, subSlotMs(slotSeconds, packing));
  if (!isCount(maxReading, 0xffffffff) || maxReading < 1) fail('bad-packing', 'maxReading must be a positive integer below 2^32');
  if (!isCount(packing.maxGroupSize, 0xffffffff) || packing.maxGroupSize < 1)
    fail('bad-packing', 'maxGroupSize must be a positive integer');
  if (!isCount(packing.readings, 255) || packing.readings < 1) fail('bad-packing', 'readings must be 1..255');
  const slotBits = productBitLength(maxReading, packing.maxGroupSize);
  const bits = slotBits * packing.readings;
  if (bits > MASKED_MAX_BITS) fail('packing-does-not-fit', `a masked value of ${bits} bits, at most ${MASKED_MAX_BITS}`);
  return { slotBits, readings: packing.readings, maxReading, bits, bytes: Math.ceil(bits / 8) };
}

/**
 * The readings packed into W bits, big-endian: reading i in bits [i * slotBits, (i + 1) * slotBits)
 * from the low end, as SlotPacking.pack orders them.
 */
export function packReadings(readings: readonly number[], layout: MaskedLayout): Uint8Array {
  if (readings.length !== layout.readings) fail('wrong-reading-count', `expected ${layout.readings} readings, got ${readings.length}`);
  const out = new Uint8Array(layout.bytes);
  for (let i = 0; i < readings.length; i++) {
    const value = readings[i];
    if (!isCount(value, MAX_EXACT) || value > layout.maxReading)
      fail('reading-out-of-range', `reading ${i} must be in [0, ${layout.maxReading}]`);
    let bit = i * layout.slotBits;
    for (let rest = value; rest > 0;) {
      const shift = bit % 8;
      const room = 256 >> shift;
      const chunk = rest % room;
      out[layout.bytes - 1 - Math.floor(bit / 8)] |= chunk << shift;
      rest = (rest - chunk) / room;
      bit += 8 - shift;
    }
  }
  return out;
}
