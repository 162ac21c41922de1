/**
 * The meter's encryption randomness, computed between samples a bounded number of modular
 * products at a time: a pool per key still needed (the open slot's first, then an announced
 * one's), and the fixed-base comb table (firmware/paillier/comb.ts) of the newest
 * short-exponent key, built in the same steps before that key's first slot. One loop turn never
 * runs more than its budget of products, so sampling and MQTT keep-alives never wait for an
 * exponentiation; an entry half computed when the turn ends is finished in the next turns.
 */
import { fail } from '../errors.ts';
import { CombTable, combStorageBytes, type CombBuildJob, type CombShape } from '../paillier/comb.ts';
import type { PaillierPublicKey } from '../paillier/public-key.ts';
import { RandomnessPool } from '../paillier/pool.ts';
import type { RandomBytes } from '../paillier/random.ts';
import type { Storage } from '../platform/port.ts';
import { RESERVED_STORAGE_BYTES, storedReportBytes } from './outbox.ts';

/** Shapes from the fewest products per encryption down; the first whose table fits the board is the default. */
const SHAPES: CombShape[] = [
  { height: 8, blocks: 2 },
  { height: 6, blocks: 2 },
  { height: 5, blocks: 3 },
  { height: 5, blocks: 2 },
  { height: 4, blocks: 2 },
  { height: 4, blocks: 1 },
  { height: 3, blocks: 1 },
  { height: 2, blocks: 1 },
];
/** Reports the outbox must still hold beside a default table. */
const MIN_OUTBOX_REPORTS = 8;

/**
 * The comb a board's storage holds beside the meter's records and MIN_OUTBOX_REPORTS reports (none
 * if even the smallest does not fit): at 2048 bits, height 3 in the ESP32's default 24 KB NVS.
 */
export function defaultCombShape(capacityBytes: number, modulusBits: number): CombShape | undefined {
  const room = capacityBytes - RESERVED_STORAGE_BYTES - MIN_OUTBOX_REPORTS * storedReportBytes(modulusBits);
  const exponentBits = Math.ceil(modulusBits / 2);
  return SHAPES.find((shape) => combStorageBytes(modulusBits, exponentBits, shape) <= room);
}

/**
 * The comb a storage of the table's own holds whole: at 2048 bits, height 8 in 2 blocks (510
 * entries of 512 bytes) in the nodemcu's 512 KB flash partition (manifests/esp32/partitions.csv).
 */
export function defaultTableShape(table: Pick<Storage, 'capacityBytes' | 'storedBytes'>, modulusBits: number): CombShape | undefined {
  const exponentBits = Math.ceil(modulusBits / 2);
  return SHAPES.find((shape) => combStorageBytes(modulusBits, exponentBits, shape, table.storedBytes) <= table.capacityBytes);
}

/** The fewest products per turn by default: one 2048-bit exponentiation in about 40 turns. */
export const MIN_DEFAULT_STEP_PRODUCTS = 64;

/** Products one entry takes without a table, about: windowed squarings over the exponent. */
export function productsPerEntry(key: PaillierPublicKey): number {
  return Math.ceil(1.25 * (key.shortExponent ? key.shortExponent.exponentBits : key.bits));
}

/** Enough products per turn for two entries per slot without a table, at least MIN_DEFAULT_STEP_PRODUCTS. */
export function defaultStepProducts(key: PaillierPublicKey, samplesPerSlot: number): number {
  return Math.min(4096, Math.max(MIN_DEFAULT_STEP_PRODUCTS, Math.ceil((2 * productsPerEntry(key)) / samplesPerSlot)));
}

export interface RandomnessOptions {
  poolCapacity: number;
  /** Products per loop turn. */
  stepProducts: number;
  /** Undefined: no table. */
  comb: CombShape | undefined;
  log: (line: string) => void;
}

export class MeterRandomness {
  private readonly pools = new Map<string, RandomnessPool>();
  private readonly table: CombTable | undefined;
  private build: { keyId: string; job: CombBuildJob } | undefined;
  /** A key whose table the storage refused: not retried, its pool does without. */
  private tableRefusedFor: string | undefined;
  refills = 0;
  tablesBuilt = 0;

  /** `tableStorage`: where the comb table lives (the meter's storage unless the board has a partition for it). */
  constructor(
    tableStorage: Storage,
    private readonly random: RandomBytes,
    private readonly options: RandomnessOptions,
  ) {
    if (!Number.isInteger(options.stepProducts) || options.stepProducts < 1)
      fail('bad-pool-capacity', 'stepProducts must be a positive integer');
    this.table = options.comb ? new CombTable(tableStorage, options.comb) : undefined;
  }

  poolSize(keyId: string): number {
    return this.pools.get(keyId)?.size ?? 0;
  }

  /** The key the stored comb table serves once complete. */
  get tableKeyId(): string | undefined {
    return this.table?.keyId;
  }

  /** One fresh value for `key`, or undefined when its pool is empty (the caller waits: it never reuses one). */
  take(key: PaillierPublicKey): bigint | undefined {
    const pool = this.pools.get(key.keyId);
    return pool && pool.size > 0 ? pool.take() : undefined;
  }

  /**
   * One loop turn's work for the keys still needed, the open slot's first: its pool, then the
   * table of the newest short-exponent key, then the other pools. Pools of keys no longer needed
   * are erased. Returns the products run (at most stepProducts).
   */
  work(needed: PaillierPublicKey[]): number {
    for (const [keyId, pool] of this.pools) {
      if (!needed.some((k) => k.keyId === keyId)) {
        pool.clear();
        this.pools.delete(keyId);
      }
    }
    let budget = this.options.stepProducts;
    const [current, ...later] = needed;
    budget -= this.refill(current, budget);
    budget -= this.buildTable(needed, budget);
    for (const key of later) budget -= this.refill(key, budget);
    return this.options.stepProducts - budget;
  }

  private pool(key: PaillierPublicKey): RandomnessPool {
    let pool = this.pools.get(key.keyId);
    if (!pool) this.pools.set(key.keyId, (pool = new RandomnessPool(key, this.random, this.options.poolCapacity)));
    return pool;
  }

  private refill(key: PaillierPublicKey, budget: number): number {
    const pool = this.pool(key);
    let used = 0;
    while (used < budget && pool.size < pool.capacity) {
      const before = pool.size;
      used += pool.refillStep(budget - used, this.table);
      if (pool.size > before) this.refills += 1;
    }
    return used;
  }

  private buildTable(needed: PaillierPublicKey[], budget: number): number {
    const table = this.table;
    const key = [...needed].reverse().find((k) => k.shortExponent);
    if (!table || !key || budget <= 0 || table.readyFor(key) || this.tableRefusedFor === key.keyId) return 0;
    try {
      if (this.build?.keyId !== key.keyId) {
        this.options.log(`building the comb table (height ${table.shape.height}, ${table.shape.blocks} block(s)) for key ${key.keyId}`);
        this.build = { keyId: key.keyId, job: table.build(key) };
      }
      const used = this.build.job.step(budget);
      if (this.build.job.done) {
        this.build = undefined;
        this.tablesBuilt += 1;
        this.options.log(`comb table for key ${key.keyId} ready`);
      }
      return used;
    } catch (error) {
      // Most likely storage-full: the pool goes on without the table rather than failing the loop.
      this.tableRefusedFor = key.keyId;
      this.build = undefined;
      table.clear();
      this.options.log(`comb table for key ${key.keyId} not built: ${(error as Error).message}`);
      return 0;
    }
  }
}
