/**
 * Encryption randomness (docs/keys.md, firmware/paillier/comb.ts): one pool entry computed as
 * classic r^n, as short-exponent hs^a (Damgard-Jurik-Nielsen), and as hs^a from the fixed-base comb
 * table, in XS (the meter's engine) and in V8 (the host: OpenSSL for the full powers, BigInt for the
 * comb); the table's build; and the longest single turn of a meter's loop in XS, which the
 * step-wise refill bounds. Combs: the default for the ESP32's 24 KB NVS and for a board with a
 * 64 KB NVS partition (firmware/meter/randomness.ts picks by the storage).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { publicKeyToJson } from '../../../firmware/paillier/codec.ts';
import { CombTable, combProducts, combStorageBytes, type CombShape } from '../../../firmware/paillier/comb.ts';
import { PaillierPublicKey } from '../../../firmware/paillier/public-key.ts';
import { randomBits } from '../../../firmware/paillier/random.ts';
import { runToEnd } from '../../../firmware/paillier/steps.ts';
import { MemoryStorage } from '../../../firmware/platform/memory-storage.ts';
import { DEVICE_PARTITION_BYTES, flashTableBudget, TABLE_PARTITION_BYTES, usableBytes } from '../../../firmware/platform/storage-budget.ts';
import { defaultCombShape, defaultTableShape } from '../../../firmware/meter/randomness.ts';
import { generateKeyPair } from '../../../host/paillier/keygen.ts';
import { hostPublicKey } from '../../../host/paillier/native-arith.ts';
import { bundle, startXsWorker, type XsWorker } from '../../../host/xs/harness.ts';
import { measureInterleaved, type Candidate } from '../measure.ts';
import type { BenchContext, BenchRow, BenchSuite, BenchTarget, RowSelector, SuiteResult } from '../types.ts';

const ENTRY = fileURLToPath(new URL('../randomness/xs-entry.ts', import.meta.url));
const XS = { impl: 'meterveil', engine: 'xs' } as const;
const V8 = { impl: 'meterveil', engine: 'v8' } as const;
const OP = 'encrypt-precompute';
const CLASSIC_XS = { ...XS, op: OP, variant: 'classic-rn' };
const CLASSIC_V8 = { ...V8, op: OP, variant: 'classic-rn-openssl' };
const nodeRandom = (length: number) => new Uint8Array(randomBytes(length));
let _sink: unknown;

/** A table only a host holds in memory: 1,020 entries, 512 KB at 2048 bits. */
const HOST_SHAPE: CombShape = { height: 8, blocks: 4 };
const shapeName = (s: CombShape) => `h${s.height}b${s.blocks}`;
/**
 * The nodemcu's default (its 512 KB table partition of raw flash), a board's with only the SDK's
 * 24 KB NVS, and a board's with a 256 KB partition.
 */
const shapesFor = (bits: number): CombShape[] => [
  defaultTableShape(flashTableBudget(TABLE_PARTITION_BYTES, bits / 4), bits) ?? { height: 8, blocks: 2 },
  defaultCombShape(usableBytes(DEVICE_PARTITION_BYTES), bits) ?? { height: 3, blocks: 1 },
  defaultTableShape(flashTableBudget(TABLE_PARTITION_BYTES / 2, bits / 4), bits) ?? { height: 6, blocks: 2 },
];

function xsSampler(xs: XsWorker, name: string) {
  return async (batch: number) => (await xs.issue({ op: 'run', name, iterations: batch })).ms as number;
}

async function xsComputrons(xs: XsWorker, name: string): Promise<number> {
  await xs.issue({ op: 'run', name, iterations: 1 });
  const one = xs.computrons;
  await xs.issue({ op: 'run', name, iterations: 0 });
  return one - xs.computrons;
}

function v8Sampler(operation: () => unknown) {
  return async (batch: number) => {
    const start = performance.now();
    for (let i = 0; i < batch; i++) _sink = operation();
    return performance.now() - start;
  };
}

async function xsRows(bits: number, keyJson: unknown, shape: CombShape, withClassic: boolean, rounds: number): Promise<BenchRow[]> {
  const xs = await startXsWorker({ bundle: await bundle(ENTRY) });
  try {
    await xs.issue({ op: 'setup', key: keyJson, comb: shape });
    const name = shapeName(shape);
    const ops: [RowSelector, string][] = [
      [{ ...XS, op: OP, variant: `djn-comb-${name}` }, 'djn-comb'],
      [{ ...XS, op: 'comb-table-build', variant: name }, 'comb-build'],
    ];
    if (withClassic) ops.unshift([CLASSIC_XS, 'classic-rn'], [{ ...XS, op: OP, variant: 'djn' }, 'djn']);
    const candidates: Candidate<RowSelector>[] = ops.map(([key, op]) => ({ key, sample: xsSampler(xs, op), batch: 1 }));
    const measured = await measureInterleaved(candidates, rounds);
    const rows: BenchRow[] = [];
    for (const m of measured) {
      const op = ops.find(([key]) => key === m.key)![1];
      const peer = m.key === CLASSIC_XS ? undefined : CLASSIC_XS;
      rows.push({
        ...m.key,
        bits,
        ms: m.msPerOp,
        samples: m.samples,
        batch: m.batch,
        computrons: await xsComputrons(xs, op),
        ...(peer ? { peer } : {}),
      });
    }
    return rows;
  } finally {
    await xs.close();
  }
}

/**
 * Every turn of a meter's loop over `slots` default slots in XS (pool refills and the table build
 * included): the longest; and the meter's peak live heap, slots after a full collection at each
 * slot's end less those of the loaded bundle before the meter started (xsnap counts slots only).
 */
async function longestTurn(bits: number, keyJson: unknown, slots: number): Promise<{ rows: BenchRow[]; note: string }> {
  const xs = await startXsWorker({ bundle: await bundle(ENTRY) });
  try {
    const bundleSlots = await xs.liveSlots();
    let peakSlots = 0;
    await xs.issue({
      op: 'meter',
      config: {
        meterId: 'bench-meter',
        publicKey: keyJson,
        macKey: randomBytes(32).toString('hex'),
        deviceKey: randomBytes(32).toString('hex'),
        broker: { url: 'mqtt://127.0.0.1:1883' },
        groups: ['street-7'],
      },
    });
    let worst = { ms: 0, computrons: 0 };
    // Turns that close no slot: the exponentiation steps, the table build and the sampling only.
    let between = { ms: 0, computrons: 0 };
    let last: { reports: number; dry: number; tables: number } = { reports: 0, dry: 0, tables: 0 };
    const turns = slots * 60;
    for (let i = 0; i < turns; i++) {
      const turn = await xs.issue({ op: 'turn' });
      const closed = turn.reports !== last.reports;
      last = turn;
      if (xs.computrons > worst.computrons) worst = { ms: turn.ms, computrons: xs.computrons };
      if (!closed && xs.computrons > between.computrons) between = { ms: turn.ms, computrons: xs.computrons };
      if ((i + 1) % 60 === 0) peakSlots = Math.max(peakSlots, (await xs.liveSlots()) - bundleSlots);
    }
    const row = (variant: string | undefined, w: typeof worst): BenchRow => ({
      ...XS,
      op: 'meter-longest-turn',
      ...(variant ? { variant } : {}),
      bits,
      ms: w.ms,
      computrons: w.computrons,
      samples: turns,
      batch: 1,
      peer: CLASSIC_XS,
    });
    const heap: BenchRow = { ...XS, op: 'meter-peak-heap', bits, ms: 0, slots: peakSlots, samples: slots, batch: 1 };
    return {
      rows: [row(undefined, worst), row('no-slot-close', between), heap],
      note: `${bits} bits: meter loop over ${turns} turns (${slots} slots of 60 s, default step): longest turn ${worst.computrons} computrons, ${worst.ms.toFixed(2)} ms (a slot's report is sealed over turns: pack and encrypt, then its portable HMAC 256 bytes a turn, each custodian's authenticator, the outbox write; the randomness work waits for those turns); longest without a slot close ${between.computrons} computrons, ${between.ms.toFixed(2)} ms; ${last.reports} reports, ${last.dry} found the pool dry, ${last.tables} comb table(s) built; the meter's peak live heap ${peakSlots} slots above the ${bundleSlots} of the loaded bundle (its storage, the table's 7 entries included, in the XS heap here; on the board in NVS and flash: docs/firmware.md gives the lin build's slots and chunk bytes at the nodemcu's values).`,
    };
  } finally {
    await xs.close();
  }
}

async function v8Rows(
  bits: number,
  pair: Awaited<ReturnType<typeof generateKeyPair>>,
  shapes: CombShape[],
  rounds: number,
): Promise<BenchRow[]> {
  const host = pair.publicKey;
  const se = host.shortExponent!;
  const classic = hostPublicKey(host.n);
  // The comb in V8 multiplies base-n digits (faster than BigInt `%` there too); the host keeps the entries decoded.
  const digitKey = new PaillierPublicKey(host.n, { arith: 'base-root', shortExponent: se });
  const tables = shapes.map((shape) => {
    const table = new CombTable(new MemoryStorage([], () => {}, 1 << 24), shape, { cacheEntries: true });
    runToEndBuild(table, digitKey);
    return { shape, table };
  });
  const candidates: Candidate<RowSelector>[] = [
    { key: CLASSIC_V8, sample: v8Sampler(() => classic.precomputeRn(nodeRandom)) },
    { key: { ...V8, op: OP, variant: 'djn-openssl' }, sample: v8Sampler(() => host.precomputeRn(nodeRandom)) },
    ...tables.map(({ shape, table }) => ({
      key: { ...V8, op: OP, variant: `djn-comb-${shapeName(shape)}` },
      sample: v8Sampler(() => runToEnd(table.pow(digitKey, randomBits(se.exponentBits, nodeRandom)))),
    })),
  ];
  const measured = await measureInterleaved(candidates, rounds);
  return measured.map((m) => ({
    ...m.key,
    bits,
    ms: m.msPerOp,
    samples: m.samples,
    batch: m.batch,
    ...(m.key === CLASSIC_V8 ? {} : { peer: CLASSIC_V8 }),
  }));
}

function runToEndBuild(table: CombTable, key: Parameters<CombTable['build']>[0]): void {
  const job = table.build(key);
  while (!job.done) job.step(1 << 20);
}

export const suite: BenchSuite = {
  name: 'randomness',
  async run(context: BenchContext): Promise<SuiteResult> {
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    const rounds = context.quick ? 3 : 7;
    for (const bits of context.bits) {
      const pair = await generateKeyPair(bits);
      const keyJson = publicKeyToJson(pair.publicKey);
      const shapes = shapesFor(bits);
      for (const [i, shape] of shapes.entries()) {
        context.log(`  ${bits} bits: XS encrypt-precompute, comb ${shapeName(shape)} (${rounds} rounds)`);
        rows.push(...(await xsRows(bits, keyJson, shape, i === 0, rounds)));
        const exponentBits = pair.publicKey.shortExponent!.exponentBits;
        notes.push(
          `${bits} bits: comb ${shapeName(shape)} holds ${combStorageBytes(bits, exponentBits, shape)} bytes of storage (NVS-counted), at most ${combProducts(exponentBits, shape)} products per hs^a.`,
        );
      }
      context.log(`  ${bits} bits: V8 encrypt-precompute`);
      rows.push(...(await v8Rows(bits, pair, [shapes[1], shapes[0], HOST_SHAPE], rounds)));
      context.log(`  ${bits} bits: XS meter loop turns`);
      const { rows: turnRows, note } = await longestTurn(bits, keyJson, context.quick ? 2 : 5);
      rows.push(...turnRows);
      notes.push(note);
      const classic = rows.find((r) => r.bits === bits && r.variant === 'classic-rn')!;
      for (const r of rows.filter((x) => x.bits === bits && x.engine === 'xs' && x !== classic && x.computrons))
        notes.push(
          `${bits} bits: XS ${r.op}${r.variant ? ` ${r.variant}` : ''}: ${(r.computrons! / classic.computrons!).toFixed(3)} of classic r^n in computrons.`,
        );
    }
    return { rows, notes };
  },
  targets: [
    {
      name: 'XS: short-exponent hs^a <= 0.55 of classic r^n',
      bits: 2048,
      numerator: { ...XS, op: OP, variant: 'djn' },
      denominator: CLASSIC_XS,
      maxRatio: 0.55,
    },
    ...(['ms', 'computrons'] as const).map((metric) => ({
      name: `XS: hs^a with the nodemcu's default comb table (h8b2, 512 KB flash partition) <= 1/8 of classic r^n (${metric === 'ms' ? 'time' : metric})`,
      bits: 2048,
      numerator: { ...XS, op: OP, variant: 'djn-comb-h8b2' },
      denominator: CLASSIC_XS,
      maxRatio: 0.125,
      metric,
    })),
    {
      name: 'XS: hs^a with the comb table of a board with only the 24 KB NVS (h3b1) <= 1/8 of classic r^n (such a board cannot: docs/firmware.md)',
      bits: 2048,
      numerator: { ...XS, op: OP, variant: 'djn-comb-h3b1' },
      denominator: CLASSIC_XS,
      maxRatio: 0.125,
    },
    ...(['ms', 'computrons'] as const).map((metric) => ({
      name: `XS: the meter loop's longest turn <= 1/20 of one classic r^n (${metric === 'ms' ? 'time' : metric})`,
      bits: 2048,
      numerator: { ...XS, op: 'meter-longest-turn' },
      denominator: CLASSIC_XS,
      maxRatio: 0.05,
      metric,
    })),
    {
      name: "XS: the meter loop's longest turn that closes no slot <= 1/20 of one classic r^n",
      bits: 2048,
      numerator: { ...XS, op: 'meter-longest-turn', variant: 'no-slot-close' },
      denominator: CLASSIC_XS,
      maxRatio: 0.05,
    },
    {
      name: "V8: hs^a with the nodemcu meter's default comb table (h8b2) no slower than the OpenSSL r^n of a full encryption",
      bits: 2048,
      numerator: { ...V8, op: OP, variant: 'djn-comb-h8b2' },
      denominator: CLASSIC_V8,
      maxRatio: 1,
    },
    {
      name: 'V8: hs^a with a host-memory comb table (h8b4) no slower than the OpenSSL r^n of a full encryption',
      bits: 2048,
      numerator: { ...V8, op: OP, variant: 'djn-comb-h8b4' },
      denominator: CLASSIC_V8,
      maxRatio: 1,
    },
  ] satisfies BenchTarget[],
};
