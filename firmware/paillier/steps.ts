/**
 * Exponentiations done a bounded number of modular products at a time, so that a meter's loop
 * can interleave them with sampling: one r^n (or hs^a) takes thousands of products, seconds on
 * an ESP32, and must never hold the loop that long. A job keeps its own state between steps.
 */
import { bigIntToBytes, bitLength } from '../bytes.ts';
import { fail } from '../errors.ts';
import { windowBits, type Residues } from './arith.ts';

export interface PowJob {
  /** Runs at most `budget` modular products (at least one when not done); returns how many ran. */
  step(budget: number): number;
  readonly done: boolean;
  /** The power, once done. */
  result(): bigint;
}

/** Runs a job to its end: for callers that may block (the host, tests, a full refill). */
export function runToEnd(job: PowJob): bigint {
  while (!job.done) job.step(1 << 20);
  return job.result();
}

/**
 * Fixed-window exponentiation, as arith.ts's windowPow, with its loop unrolled into steps. The
 * exponent's bits are read from its bytes: XS turns a BigInt into a binary string by repeated
 * division, which would cost one turn as much as many products.
 */
export class WindowPowJob<T> implements PowJob {
  private readonly bytes: Uint8Array;
  private readonly length: number;
  private readonly w: number;
  private readonly base: T;
  private readonly table: T[];
  private acc: T | undefined;
  private pos = 0;
  private squaresDue = 0;
  private finished = false;

  constructor(
    private readonly r: Residues<T>,
    base: bigint,
    exp: bigint,
  ) {
    if (exp < 0n) fail('negative-exponent', 'exponent must be non-negative');
    this.length = bitLength(exp);
    this.bytes = bigIntToBytes(exp, Math.ceil(this.length / 8));
    this.w = windowBits(this.length);
    this.base = r.lift(base);
    this.table = [r.one, this.base];
    if (exp === 0n) {
      this.acc = r.one;
      this.finished = true;
    }
  }

  get done(): boolean {
    return this.finished;
  }

  /** The `count` bits starting `from` bits below the top, as a number. */
  private digit(from: number, count: number): number {
    let d = 0;
    for (let i = from; i < from + count && i < this.length; i++) {
      const position = this.length - 1 - i;
      d = (d << 1) | ((this.bytes[this.bytes.length - 1 - (position >> 3)] >> (position & 7)) & 1);
    }
    return d;
  }

  step(budget: number): number {
    const { r, w, length } = this;
    let used = 0;
    while (used < budget && !this.finished) {
      if (this.table.length < 1 << w) {
        this.table.push(r.mul(this.table[this.table.length - 1], this.base));
        used++;
      } else if (this.acc === undefined) {
        const lead = length % w || w;
        this.acc = this.table[this.digit(0, lead)];
        this.pos = lead;
        this.squaresDue = this.pos < length ? w : 0;
      } else if (this.squaresDue > 0) {
        this.acc = r.square(this.acc);
        this.squaresDue--;
        used++;
      } else if (this.pos < length) {
        const digit = this.digit(this.pos, w);
        this.pos += w;
        this.squaresDue = this.pos < length ? w : 0;
        if (digit !== 0) {
          this.acc = r.mul(this.acc, this.table[digit]);
          used++;
        }
      } else {
        this.finished = true;
        this.table.length = 0;
      }
    }
    if (this.acc !== undefined && this.pos >= length && this.squaresDue === 0) {
      this.finished = true;
      this.table.length = 0;
    }
    return used;
  }

  result(): bigint {
    if (!this.finished || this.acc === undefined) fail('job-unfinished', 'the exponentiation has steps left');
    return this.r.lower(this.acc);
  }
}
