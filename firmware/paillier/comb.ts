/**
 * A fixed-base comb (Lim and Lee, CRYPTO '94) for a short-exponent key's hs: the exponent's
 * `exponentBits` bits are laid out in `height` rows of a = ceil(bits / height) bits, each row cut
 * into `blocks` blocks of b = ceil(a / blocks) bits. For block j the table holds, for every
 * non-zero column pattern i of height bits, G[j][i] = prod over the set bits k of i of
 * hs^(2^(k a + j b)). hs^e then takes b - 1 squarings and at most `blocks` * b products, instead
 * of about exponentBits squarings: at 2048 bits and height 4, 255 squarings and 240 products.
 *
 * The meter builds its table itself from the key it adopted (nobody can hand it one), in steps,
 * and keeps it in the platform's storage, not in the XS heap: one entry (a residue modulo n^2,
 * 512 bytes at 2048 bits) per storage key, read one at a time while exponentiating. One table is
 * kept, for one key: a new key's table replaces the old one, which its pool then does without.
 *
 * Storage: "cb.h" the header (JSON: keyId, hs's low 64 bits, height, blocks, exponentBits, entries,
 * complete); "cb.<index>" entry index = j (2^height - 1) + i - 1, in the form Residues encodes.
 */
import { bigIntToBytes, bytesToHex } from '../bytes.ts';
import { fail } from '../errors.ts';
import type { Storage } from '../platform/port.ts';
import { storedBytes } from '../platform/storage-budget.ts';
import { residuesFor, type Residues } from './arith.ts';
import { parseJsonObject } from './codec.ts';
import type { PaillierPublicKey } from './public-key.ts';
import type { PowJob } from './steps.ts';
import { utf8Decode, utf8Encode } from '../text.ts';

const HEADER_KEY = 'cb.h';
const HEADER_BYTES = 160;

export interface CombShape {
  height: number;
  blocks: number;
}

/** Heights above 8 need more entries than any board's storage holds. */
export const MAX_COMB_HEIGHT = 8;
export const MAX_COMB_BLOCKS = 8;

interface Layout {
  a: number;
  b: number;
  perBlock: number;
  /** Blocks that start inside a row: the last ones may be empty when blocks does not divide a. */
  blocks: number;
  entries: number;
}

function layoutOf(exponentBits: number, shape: CombShape): Layout {
  const { height, blocks } = shape;
  if (
    !Number.isInteger(height) ||
    height < 1 ||
    height > MAX_COMB_HEIGHT ||
    !Number.isInteger(blocks) ||
    blocks < 1 ||
    blocks > MAX_COMB_BLOCKS
  )
    fail('bad-comb-shape', `comb height must be 1-${MAX_COMB_HEIGHT} and blocks 1-${MAX_COMB_BLOCKS}`);
  const a = Math.ceil(exponentBits / height);
  const b = Math.ceil(a / blocks);
  const usedBlocks = Math.ceil(a / b);
  const perBlock = (1 << height) - 1;
  return { a, b, perBlock, blocks: usedBlocks, entries: usedBlocks * perBlock };
}

/** The storage a table takes, counted as the device's NVS counts it unless the storage counts otherwise. */
export function combStorageBytes(
  modulusBits: number,
  exponentBits: number,
  shape: CombShape,
  cost: (valueLength: number) => number = storedBytes,
): number {
  const entryBytes = 2 * Math.ceil(modulusBits / 8);
  return layoutOf(exponentBits, shape).entries * cost(entryBytes) + cost(HEADER_BYTES);
}

/** Products (squarings included) of one hs^e with the table, at most. */
export function combProducts(exponentBits: number, shape: CombShape): number {
  const { a, b, blocks } = layoutOf(exponentBits, shape);
  return b - 1 + Math.min(a, blocks * b);
}

interface Header {
  keyId: string;
  hs: string;
  height: number;
  blocks: number;
  exponentBits: number;
  entries: number;
  complete: boolean;
}

/** hs's low 64 bits: with the key id they tell a table for another base apart. */
function fingerprint(key: PaillierPublicKey): string {
  return bytesToHex(bigIntToBytes(key.shortExponent!.hs & 0xffffffffffffffffn, 8));
}

export class CombTable {
  private header: Header | undefined;
  /** Decoded entries, for a host that has the memory; a meter reads each from storage every time. */
  private readonly cache: Map<number, unknown> | undefined;

  constructor(
    private readonly storage: Storage,
    readonly shape: CombShape,
    options: { cacheEntries?: boolean } = {},
  ) {
    this.cache = options.cacheEntries ? new Map() : undefined;
    layoutOf(1024, shape);
    this.header = readHeader(storage);
  }

  /** The key the stored table (complete or not) belongs to. */
  get keyId(): string | undefined {
    return this.header?.keyId;
  }

  /** A complete table for this key and this shape is in storage. */
  readyFor(key: PaillierPublicKey): boolean {
    const h = this.header;
    const se = key.shortExponent;
    return (
      !!h &&
      !!se &&
      h.complete &&
      h.keyId === key.keyId &&
      h.hs === fingerprint(key) &&
      h.height === this.shape.height &&
      h.blocks === this.shape.blocks &&
      h.exponentBits === se.exponentBits
    );
  }

  /** Starts a table for `key`, replacing whatever was stored: the old table is unusable from here on. */
  build(key: PaillierPublicKey): CombBuildJob {
    const se = key.shortExponent;
    if (!se) fail('bad-comb-shape', 'only a short-exponent key has a fixed base');
    const layout = layoutOf(se.exponentBits, this.shape);
    const previous = this.header;
    this.cache?.clear();
    this.writeHeader({
      keyId: key.keyId,
      hs: fingerprint(key),
      ...this.shape,
      exponentBits: se.exponentBits,
      entries: layout.entries,
      complete: false,
    });
    if (previous) for (let i = layout.entries; i < previous.entries; i++) this.storage.delete(entryKey(i));
    return new CombBuildJob(this, key, layout, residuesFor(key.n, key.arith));
  }

  /** hs^exp in steps, reading the table entry by entry. */
  pow(key: PaillierPublicKey, exp: bigint): PowJob {
    if (!this.readyFor(key)) fail('comb-not-ready', `no complete comb table for key ${key.keyId}`);
    return new CombPowJob(this, key, layoutOf(key.shortExponent!.exponentBits, this.shape), exp, residuesFor(key.n, key.arith));
  }

  /** Removes the table and its header. */
  clear(): void {
    const h = this.header;
    if (!h) return;
    this.cache?.clear();
    this.storage.delete(HEADER_KEY);
    for (let i = 0; i < h.entries; i++) this.storage.delete(entryKey(i));
    this.header = undefined;
  }

  /** @internal */
  entry<T>(r: Residues<T>, index: number, keyId: string): T {
    if (this.header?.keyId !== keyId) fail('comb-not-ready', `the comb table was replaced while key ${keyId} was using it`);
    const cached = this.cache?.get(index);
    if (cached !== undefined) return cached as T;
    const bytes = this.storage.get(entryKey(index));
    if (!bytes || bytes.length !== r.encodedBytes) fail('comb-not-ready', `comb entry ${index} is missing or damaged`);
    const value = r.decode(bytes);
    this.cache?.set(index, value);
    return value;
  }

  /** @internal */
  store<T>(r: Residues<T>, index: number, value: T): void {
    this.storage.set(entryKey(index), r.encode(value));
    this.cache?.set(index, value);
  }

  /** @internal */
  complete(keyId: string): void {
    if (this.header?.keyId !== keyId) fail('comb-not-ready', `the comb table for key ${keyId} was replaced while it was built`);
    this.writeHeader({ ...this.header, complete: true });
  }

  private writeHeader(header: Header): void {
    this.storage.set(HEADER_KEY, utf8Encode(JSON.stringify(header)));
    this.header = header;
  }
}

function entryKey(index: number): string {
  return `cb.${index}`;
}

function readHeader(storage: Storage): Header | undefined {
  const bytes = storage.get(HEADER_KEY);
  if (!bytes) return undefined;
  try {
    const h = parseJsonObject(utf8Decode(bytes), 'comb header') as unknown as Header;
    const ints = [h.height, h.blocks, h.exponentBits, h.entries];
    if (typeof h.keyId !== 'string' || typeof h.hs !== 'string' || typeof h.complete !== 'boolean' || !ints.every(Number.isInteger))
      return undefined;
    return h;
  } catch {
    // A damaged header only costs a rebuild.
    return undefined;
  }
}

/** Squarings of hs, storing the single-bit entries as they appear, then the products of the rest. */
export class CombBuildJob {
  private x: unknown;
  private pos = 0;
  private readonly lastPos: number;
  /** Positions k a + j b, each with its entry index, in increasing order. */
  private readonly singles: [pos: number, index: number][] = [];
  private nextSingle = 0;
  private block = 0;
  private pattern = 3;
  private finished = false;

  constructor(
    private readonly table: CombTable,
    private readonly key: PaillierPublicKey,
    private readonly layout: Layout,
    private readonly r: Residues<unknown>,
  ) {
    const { a, b, perBlock } = layout;
    for (let k = 0; k < table.shape.height; k++)
      for (let j = 0; j < layout.blocks; j++) this.singles.push([k * a + j * b, j * perBlock + (1 << k) - 1]);
    this.singles.sort((p, q) => p[0] - q[0]);
    this.lastPos = this.singles[this.singles.length - 1][0];
    this.x = r.lift(key.shortExponent!.hs);
  }

  get done(): boolean {
    return this.finished;
  }

  step(budget: number): number {
    const { r, table, layout } = this;
    const keyId = this.key.keyId;
    let used = 0;
    while (used < budget && !this.finished) {
      if (this.pos <= this.lastPos) {
        while (this.nextSingle < this.singles.length && this.singles[this.nextSingle][0] === this.pos)
          table.store(r, this.singles[this.nextSingle++][1], this.x);
        if (this.pos < this.lastPos) {
          this.x = r.square(this.x);
          used++;
        }
        this.pos++;
      } else if (this.block < layout.blocks) {
        const i = this.pattern;
        if (i > layout.perBlock) {
          this.block++;
          this.pattern = 3;
          continue;
        }
        this.pattern++;
        if ((i & (i - 1)) === 0) continue;
        const base = this.block * layout.perBlock - 1;
        const low = i & -i;
        table.store(r, base + i, r.mul(table.entry(r, base + (i - low), keyId), table.entry(r, base + low, keyId)));
        used++;
      } else {
        table.complete(keyId);
        this.x = undefined;
        this.finished = true;
      }
    }
    return used;
  }
}

class CombPowJob implements PowJob {
  private readonly bytes: Uint8Array;
  private acc: unknown;
  private started = false;
  private column: number;
  private block = 0;
  private squared = true;
  private finished = false;

  constructor(
    private readonly table: CombTable,
    private readonly key: PaillierPublicKey,
    private readonly layout: Layout,
    exp: bigint,
    private readonly r: Residues<unknown>,
  ) {
    const total = layout.a * table.shape.height;
    if (exp < 0n || exp >= 1n << BigInt(key.shortExponent!.exponentBits)) fail('negative-exponent', 'exponent out of the table range');
    // Bits read from bytes: XS turns a BigInt into a binary string by repeated division.
    this.bytes = bigIntToBytes(exp, Math.ceil(total / 8));
    this.acc = r.one;
    this.column = layout.b - 1;
  }

  get done(): boolean {
    return this.finished;
  }

  private bit(position: number): number {
    return (this.bytes[this.bytes.length - 1 - (position >> 3)] >> (position & 7)) & 1;
  }

  step(budget: number): number {
    const { r, layout } = this;
    const height = this.table.shape.height;
    let used = 0;
    while (used < budget && !this.finished) {
      if (!this.squared) {
        if (this.started) {
          this.acc = r.square(this.acc);
          used++;
        }
        this.squared = true;
      } else if (this.block < layout.blocks) {
        const col = this.block * layout.b + this.column;
        const j = this.block++;
        if (col >= layout.a) continue;
        let i = 0;
        for (let k = height - 1; k >= 0; k--) i = (i << 1) | this.bit(k * layout.a + col);
        if (i === 0) continue;
        const g = this.table.entry(r, j * layout.perBlock + i - 1, this.key.keyId);
        this.acc = this.started ? r.mul(this.acc, g) : g;
        if (this.started) used++;
        this.started = true;
      } else if (this.column > 0) {
        this.column--;
        this.block = 0;
        this.squared = false;
      } else {
        this.finished = true;
      }
    }
    return used;
  }

  result(): bigint {
    if (!this.finished) fail('job-unfinished', 'the exponentiation has steps left');
    return this.r.lower(this.acc);
  }
}
