/**
 * Modular arithmetic for one fixed odd modulus, in two interchangeable forms:
 * Montgomery (REDC with shifts and masks) and plain BigInt `%`. XS charges `%` steeply and
 * Montgomery wins there; V8's `%` is fast and Montgomery loses (see docs/benchmarks.md),
 * so each engine takes the faster one through preferredArithKind().
 */
import { bigIntToBytes, bitLength, byteLength, bytesToBigInt, concatBytes } from '../bytes.ts';
import { fail } from '../errors.ts';
import { inverseModPowerOfTwo } from './numbers.ts';

export type ArithKind = 'montgomery' | 'plain';
/** Arithmetic modulo n^2 may also use base-n digits, which needs n itself (see BaseRootArith). */
export type SquareArithKind = ArithKind | 'base-root';

export interface ModArith {
  /** 'montgomery' or 'plain' here; the host adds a native kind backed by OpenSSL. */
  readonly kind: string;
  readonly modulus: bigint;
  /** a * b mod modulus, for a and b in [0, modulus). */
  mul(a: bigint, b: bigint): bigint;
  /** base^exp mod modulus, exp >= 0. */
  pow(base: bigint, exp: bigint): bigint;
  /** The product of all values mod modulus; cheaper than repeated mul in Montgomery form. */
  product(values: Iterable<bigint>): bigint;
}

/** XS adds BigInt.bitLength; V8 does not. */
export function isXsEngine(): boolean {
  return typeof (BigInt as unknown as { bitLength?: unknown }).bitLength === 'function';
}

export function preferredArithKind(): ArithKind {
  return isXsEngine() ? 'montgomery' : 'plain';
}

/**
 * Measured in XS at 2048-bit n (docs/benchmarks.md): base-n digits beat Montgomery, which beats
 * `%`. In V8, `%` is fastest.
 */
export function preferredSquareArithKind(): SquareArithKind {
  return isXsEngine() ? 'base-root' : 'plain';
}

/** Arithmetic modulo root^2, for Paillier's n^2. */
export function createSquareModArith(root: bigint, kind: SquareArithKind = preferredSquareArithKind()): ModArith {
  return kind === 'base-root' ? new BaseRootArith(root) : createModArith(root * root, kind);
}

export function createModArith(modulus: bigint, kind: ArithKind = preferredArithKind()): ModArith {
  if (modulus < 3n || (modulus & 1n) === 0n) fail('bad-modulus', 'modulus must be an odd number above 2');
  return kind === 'montgomery' ? new MontgomeryArith(modulus) : new PlainArith(modulus);
}

/**
 * Window width for fixed-window exponentiation: wider windows pay off only on long exponents,
 * and never beyond 4 bits: the table holds 2^w residues, and at w = 6 its 64 entries modulo a
 * 2048-bit n^2 (about 35 KB) made the meter abort with "memory full" in an ESP32's 78 KB chunk
 * heap (lin build with the nodemcu's values); 16 entries cost about 5% more multiplications.
 */
export function windowBits(expBits: number): number {
  if (expBits > 128) return 4;
  if (expBits > 24) return 3;
  return 1;
}

/**
 * Fixed-window exponentiation over any representation T of residues. The exponent is read once
 * as a binary string, which is cheaper than repeated shifts and masks on a large BigInt.
 */
function windowPow<T>(base: T, exp: bigint, one: T, mul: (a: T, b: T) => T, square: (a: T) => T = (a) => mul(a, a)): T {
  if (exp < 0n) fail('negative-exponent', 'exponent must be non-negative');
  if (exp === 0n) return one;
  const bits = exp.toString(2);
  const w = windowBits(bits.length);
  const table: T[] = [one, base];
  for (let i = 2; i < 1 << w; i++) table.push(mul(table[i - 1], base));
  const lead = bits.length % w || w;
  let acc = table[parseInt(bits.slice(0, lead), 2)];
  for (let pos = lead; pos < bits.length; pos += w) {
    for (let i = 0; i < w; i++) acc = square(acc);
    const digit = parseInt(bits.slice(pos, pos + w), 2);
    if (digit !== 0) acc = mul(acc, table[digit]);
  }
  return acc;
}

class PlainArith implements ModArith {
  readonly kind = 'plain' as const;
  constructor(readonly modulus: bigint) {}

  mul(a: bigint, b: bigint): bigint {
    return (a * b) % this.modulus;
  }

  pow(base: bigint, exp: bigint): bigint {
    const m = this.modulus;
    return windowPow<bigint>(base % m, exp, 1n, (a, b) => (a * b) % m);
  }

  product(values: Iterable<bigint>): bigint {
    const m = this.modulus;
    let acc = 1n;
    for (const v of values) acc = (acc * v) % m;
    return acc;
  }
}

/** Montgomery form with R = 2^k, k the modulus bit length: x is held as xR mod N. */
class MontgomeryArith implements ModArith {
  readonly kind = 'montgomery' as const;
  private readonly shift: bigint;
  private readonly mask: bigint;
  private readonly nPrime: bigint;
  private readonly rModN: bigint;
  private readonly r2ModN: bigint;

  constructor(readonly modulus: bigint) {
    const k = bitLength(modulus);
    this.shift = BigInt(k);
    this.mask = (1n << this.shift) - 1n;
    this.nPrime = (this.mask + 1n - inverseModPowerOfTwo(modulus, k)) & this.mask;
    this.rModN = (1n << this.shift) % modulus;
    this.r2ModN = (this.rModN * this.rModN) % modulus;
  }

  /** t R^-1 mod N for t < N R. */
  private redc(t: bigint): bigint {
    const m = ((t & this.mask) * this.nPrime) & this.mask;
    const u = (t + m * this.modulus) >> this.shift;
    return u >= this.modulus ? u - this.modulus : u;
  }

  private toMont(x: bigint): bigint {
    return this.redc((x % this.modulus) * this.r2ModN);
  }

  mul(a: bigint, b: bigint): bigint {
    // (aR^-1 b) R^2 R^-1 = ab: two reductions, still no division.
    return this.redc(this.redc(a * b) * this.r2ModN);
  }

  pow(base: bigint, exp: bigint): bigint {
    const montMul = (a: bigint, b: bigint) => this.redc(a * b);
    return this.redc(windowPow<bigint>(this.toMont(base), exp, this.rModN, montMul));
  }

  product(values: Iterable<bigint>): bigint {
    // Each reduction leaves a factor R^-1; the count is known at the end, so one correction suffices.
    let acc = 1n;
    let count = 0n;
    for (const v of values) {
      acc = this.redc(acc * v);
      count++;
    }
    return count === 0n ? 1n : this.mul(acc, this.pow(this.rModN, count));
  }
}

type Digits = [lo: bigint, hi: bigint];

/**
 * Residues modulo n^2 held as two base-n digits, x = lo + hi n. A product needs three or four
 * multiplications of n-sized numbers and two reductions modulo n (Barrett, with shifts), instead
 * of one multiplication and one division of n^2-sized numbers: schoolbook cost is quadratic, so
 * halving the operand size more than pays for the extra operations. Used for exponentiation;
 * single products stay plain, where the conversion into digits would cost more than it saves.
 */
class BaseRootArith implements ModArith {
  readonly kind = 'base-root' as const;
  readonly modulus: bigint;
  private readonly plain: ModArith;
  private readonly mu: bigint;
  private readonly shiftDown: bigint;
  private readonly shiftUp: bigint;

  constructor(private readonly root: bigint) {
    if (root < 3n || (root & 1n) === 0n) fail('bad-modulus', 'modulus must be the square of an odd number above 2');
    this.modulus = root * root;
    this.plain = new PlainArith(this.modulus);
    const k = BigInt(bitLength(root));
    this.mu = (1n << (2n * k)) / root;
    this.shiftDown = k - 1n;
    this.shiftUp = k + 1n;
  }

  /** x mod n and floor(x / n). Barrett's estimate never exceeds the true quotient, so the loop corrects it upwards. */
  private divmod(x: bigint): Digits {
    let q = ((x >> this.shiftDown) * this.mu) >> this.shiftUp;
    let r = x - q * this.root;
    while (r >= this.root) {
      r -= this.root;
      q++;
    }
    return [r, q];
  }

  private mulDigits = (x: Digits, y: Digits): Digits => {
    const [lo, carry] = this.divmod(x[0] * y[0]);
    return [lo, this.divmod(carry + x[0] * y[1] + x[1] * y[0])[0]];
  };

  private squareDigits = (x: Digits): Digits => {
    const [lo, carry] = this.divmod(x[0] * x[0]);
    return [lo, this.divmod(carry + ((x[0] * x[1]) << 1n))[0]];
  };

  mul(a: bigint, b: bigint): bigint {
    return this.plain.mul(a, b);
  }

  product(values: Iterable<bigint>): bigint {
    return this.plain.product(values);
  }

  pow(base: bigint, exp: bigint): bigint {
    const b = base % this.modulus;
    const [lo, hi] = windowPow<Digits>([b % this.root, b / this.root], exp, [1n, 0n], this.mulDigits, this.squareDigits);
    return lo + hi * this.root;
  }

  /** The same digits for work done a few products at a time; stored as the two digits, so reading back divides nothing. */
  residues(): Residues<Digits> {
    const digitBytes = byteLength(this.root);
    return {
      one: [1n, 0n],
      encodedBytes: 2 * digitBytes,
      lift: (x) => {
        const b = x % this.modulus;
        return [b % this.root, b / this.root];
      },
      lower: ([lo, hi]) => lo + hi * this.root,
      mul: this.mulDigits,
      square: this.squareDigits,
      encode: ([lo, hi]) => concatBytes(bigIntToBytes(lo, digitBytes), bigIntToBytes(hi, digitBytes)),
      decode: (bytes) => [readBigInt(bytes.subarray(0, digitBytes)), readBigInt(bytes.subarray(digitBytes))],
    };
  }
}

/**
 * Residues in the form an engine multiplies fastest, with a fixed-length byte form, for
 * exponentiations done a bounded number of products at a time (steps.ts, comb.ts).
 */
export interface Residues<T> {
  readonly one: T;
  readonly encodedBytes: number;
  lift(x: bigint): T;
  lower(x: T): bigint;
  mul(a: T, b: T): T;
  square(a: T): T;
  encode(x: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** Base-n digits where the key's arithmetic uses them (XS), plain BigInt `%` otherwise. */
export function residuesFor(root: bigint, arith: ModArith): Residues<unknown> {
  if (arith instanceof BaseRootArith) return arith.residues() as Residues<unknown>;
  const m = root * root;
  const bytes = 2 * byteLength(root);
  const plain: Residues<bigint> = {
    one: 1n,
    encodedBytes: bytes,
    lift: (x) => x % m,
    lower: (x) => x,
    mul: (a, b) => (a * b) % m,
    square: (a) => (a * a) % m,
    encode: (x) => bigIntToBytes(x, bytes),
    decode: (b) => readBigInt(b),
  };
  return plain as Residues<unknown>;
}

type XsBigInt = { fromArrayBuffer?: (buffer: ArrayBuffer) => bigint };
const fromArrayBuffer = (BigInt as unknown as XsBigInt).fromArrayBuffer;

/**
 * XS converts a buffer natively (big-endian); elsewhere through hex. The bytes are cut out of their
 * buffer with ArrayBuffer.prototype.slice, a memcpy XS does not meter per byte as it does a typed
 * array's slice (two computrons a byte: a comb entry's two digits cost a thousand).
 */
function readBigInt(bytes: Uint8Array): bigint {
  if (!fromArrayBuffer) return bytesToBigInt(bytes);
  return fromArrayBuffer((bytes.buffer as ArrayBuffer).slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
