/**
 * The Paillier core side by side: meterveil in V8 and in XS, paillier-bigint, and jsbn as the
 * no-BigInt baseline, at each requested key size. What each row measures: docs/benchmarks.md.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as paillierBigint from 'paillier-bigint';
import { PaillierPublicKey } from '../../../firmware/paillier/public-key.ts';
import { RandomnessPool } from '../../../firmware/paillier/pool.ts';
import { randomBelow, randomUnit, type RandomBytes } from '../../../firmware/paillier/random.ts';
import { gcd, modInverse } from '../../../firmware/paillier/numbers.ts';
import { generateKeyPair } from '../../../host/paillier/keygen.ts';
import { bundle, startXsWorker, type XsWorker } from '../../../host/xs/harness.ts';
import { JsbnPaillier, toJsbn } from '../core/jsbn-paillier.ts';
import { measureInterleaved, type Candidate } from '../measure.ts';
import type { BenchContext, BenchRow, BenchSuite, BenchTarget, RowSelector, SuiteResult } from '../types.ts';

const AGGREGATED = 10_000;
const nodeRandom: RandomBytes = (length) => new Uint8Array(randomBytes(length));
let _sink: unknown;

type Key = RowSelector;
const PAILLIER_BIGINT_V8 = { impl: 'paillier-bigint', engine: 'v8' } as const;
const METERVEIL_V8 = { impl: 'meterveil', engine: 'v8' } as const;
const PLAIN_BINARY_XS = { impl: 'meterveil', engine: 'xs', variant: 'plain-binary' } as const;

function v8Sampler(operation: () => unknown, setUp?: (batch: number) => void) {
  return async (batch: number) => {
    setUp?.(batch);
    const start = performance.now();
    for (let i = 0; i < batch; i++) _sink = operation();
    return performance.now() - start;
  };
}

async function v8AsyncSampler(operation: () => Promise<unknown>) {
  return async (batch: number) => {
    const start = performance.now();
    for (let i = 0; i < batch; i++) _sink = await operation();
    return performance.now() - start;
  };
}

function xsSampler(xs: XsWorker, name: string) {
  return async (batch: number) => {
    await xs.issue({ op: 'prepare', name, iterations: batch });
    const { ms } = await xs.issue({ op: 'run', name, iterations: batch });
    return ms as number;
  };
}

/** Computrons of one operation: a run of `batch` minus an empty run, so set-up and the pipe do not count. */
async function xsComputrons(xs: XsWorker, name: string, batch: number): Promise<number> {
  const counted = async (iterations: number) => {
    await xs.issue({ op: 'prepare', name, iterations });
    await xs.issue({ op: 'run', name, iterations });
    return xs.computrons;
  };
  const full = await counted(batch);
  const empty = await counted(0);
  return Math.round((full - empty) / batch);
}

/** A pool refilled from a few real r^n: filling thousands of real entries would dominate the run. */
function recyclingPool(key: PaillierPublicKey, rns: bigint[], size: number): RandomnessPool {
  let next = 0;
  const recycling = Object.create(key, { precomputeRn: { value: () => rns[next++ % rns.length] } });
  const pool = new RandomnessPool(recycling as PaillierPublicKey, nodeRandom, Math.max(size, 1));
  pool.refill(size);
  return pool;
}

interface Plan {
  rounds: number;
  aggregateRounds: number;
  keygenRounds: number;
}

function planFor(bits: number, quick: boolean): Plan {
  if (quick) return { rounds: 2, aggregateRounds: 1, keygenRounds: 1 };
  return bits <= 2048 ? { rounds: 11, aggregateRounds: 7, keygenRounds: 5 } : { rounds: 7, aggregateRounds: 3, keygenRounds: 3 };
}

async function measureKeySize(bits: number, context: BenchContext, xsEntry: string): Promise<BenchRow[]> {
  const plan = planFor(bits, context.quick);
  // Classic r^n, like for like with paillier-bigint and jsbn; short exponents are the randomness suite's.
  const { publicKey, privateKey } = await generateKeyPair(bits, 'classic');
  const { n, nSquared } = publicKey;
  const { p, q } = privateKey;
  // The host's key (OpenSSL exponentiation) is the main V8 row; the portable core in V8 shows what
  // BigInt alone gives, and what the meter's arithmetic would cost there.
  const portableKey = new PaillierPublicKey(n, { arith: 'plain' });
  const montgomeryKey = new PaillierPublicKey(n, { arith: 'montgomery' });
  // A realistic plaintext: a few packed readings, far below n.
  const m = randomBelow(1n << 64n, nodeRandom);

  const pbPublic = new paillierBigint.PublicKey(n, n + 1n);
  const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
  const pbPrivate = new paillierBigint.PrivateKey(lambda, modInverse(lambda, n), pbPublic, p, q);
  const jsbn = new JsbnPaillier(n, p, q);
  const mJsbn = toJsbn(m);

  const rns = [0, 1, 2, 3].map(() => publicKey.precomputeRn(nodeRandom));
  const c1 = publicKey.encryptWithRn(m, rns[0]);
  const c2 = publicKey.encryptWithRn(m, rns[1]);
  const ciphertexts = [c1];
  for (let i = 1; i < AGGREGATED; i++) ciphertexts.push((ciphertexts[i - 1] * c1) % nSquared);
  const [c1Jsbn, c2Jsbn] = [toJsbn(c1), toJsbn(c2)];
  const rnsJsbn = rns.map(toJsbn);
  const ciphertextsJsbn = ciphertexts.map(toJsbn);

  const xs = await startXsWorker({ bundle: await bundle(xsEntry) });
  const rows: BenchRow[] = [];
  try {
    const setup = await xs.issue({ op: 'setup', n: n.toString(16), m: m.toString(16) });
    context.log(`  ${bits} bits: XS uses ${setup.arith} arithmetic`);

    const group = async (op: string, candidates: Candidate<Key>[], rounds: number) => {
      context.log(`  ${bits} bits: ${op} (${candidates.length} implementations, ${rounds} rounds)`);
      const measured = await measureInterleaved(candidates, rounds);
      for (const result of measured) {
        const row: BenchRow = { ...result.key, bits, ms: result.msPerOp, samples: result.samples, batch: result.batch };
        if (row.engine === 'xs') {
          row.computrons = await xsComputrons(xs, row.variant ? `${op}/${row.variant}` : op, result.batch);
          if (op !== 'encrypt-full') row.peer = METERVEIL_V8;
          else if (row.variant !== PLAIN_BINARY_XS.variant) row.peer = PLAIN_BINARY_XS;
        } else if (row.impl !== 'paillier-bigint') {
          row.peer = PAILLIER_BIGINT_V8;
        }
        rows.push(row);
      }
    };
    const xsCandidate = (op: string, variant?: string, batch?: number): Candidate<Key> => ({
      key: { impl: 'meterveil', engine: 'xs', op, ...(variant ? { variant } : {}) },
      sample: xsSampler(xs, variant ? `${op}/${variant}` : op),
      batch,
    });

    await group(
      'encrypt-full',
      [
        { key: { impl: 'meterveil', engine: 'v8', op: 'encrypt-full' }, sample: v8Sampler(() => publicKey.encrypt(m, nodeRandom)) },
        {
          key: { impl: 'meterveil', engine: 'v8', op: 'encrypt-full', variant: 'portable-plain' },
          sample: v8Sampler(() => portableKey.encrypt(m, nodeRandom)),
        },
        {
          key: { impl: 'meterveil', engine: 'v8', op: 'encrypt-full', variant: 'portable-montgomery' },
          sample: v8Sampler(() => montgomeryKey.encrypt(m, nodeRandom)),
        },
        { key: { impl: 'paillier-bigint', engine: 'v8', op: 'encrypt-full' }, sample: v8Sampler(() => pbPublic.encrypt(m)) },
        {
          key: { impl: 'jsbn', engine: 'v8', op: 'encrypt-full' },
          sample: v8Sampler(() => jsbn.encrypt(mJsbn, toJsbn(randomUnit(n, nodeRandom)))),
        },
        xsCandidate('encrypt-full'),
        xsCandidate('encrypt-full', 'plain-window'),
        xsCandidate('encrypt-full', 'plain-binary'),
      ],
      plan.rounds,
    );

    let pool = recyclingPool(publicKey, rns, 0);
    let next = 0;
    await group(
      'encrypt-online',
      [
        {
          key: { impl: 'meterveil', engine: 'v8', op: 'encrypt-online' },
          sample: v8Sampler(
            () => publicKey.encryptWithRn(m, pool.take()),
            (batch) => (pool = recyclingPool(publicKey, rns, batch)),
          ),
        },
        {
          key: { impl: 'jsbn', engine: 'v8', op: 'encrypt-online' },
          sample: v8Sampler(() => jsbn.encryptWithRn(mJsbn, rnsJsbn[next++ & 3])),
        },
        xsCandidate('encrypt-online'),
      ],
      plan.rounds,
    );

    await group(
      'add',
      [
        { key: { impl: 'meterveil', engine: 'v8', op: 'add' }, sample: v8Sampler(() => publicKey.add(c1, c2)) },
        {
          key: { impl: 'meterveil', engine: 'v8', op: 'add', variant: 'portable-montgomery' },
          sample: v8Sampler(() => montgomeryKey.add(c1, c2)),
        },
        { key: { impl: 'paillier-bigint', engine: 'v8', op: 'add' }, sample: v8Sampler(() => pbPublic.addition(c1, c2)) },
        { key: { impl: 'jsbn', engine: 'v8', op: 'add' }, sample: v8Sampler(() => jsbn.add(c1Jsbn, c2Jsbn)) },
        xsCandidate('add'),
      ],
      plan.rounds,
    );

    await group(
      'aggregate-10k',
      [
        { key: { impl: 'meterveil', engine: 'v8', op: 'aggregate-10k' }, sample: v8Sampler(() => publicKey.add(...ciphertexts)), batch: 1 },
        {
          key: { impl: 'paillier-bigint', engine: 'v8', op: 'aggregate-10k' },
          sample: v8Sampler(() => pbPublic.addition(...ciphertexts)),
          batch: 1,
        },
        { key: { impl: 'jsbn', engine: 'v8', op: 'aggregate-10k' }, sample: v8Sampler(() => jsbn.aggregate(ciphertextsJsbn)), batch: 1 },
        xsCandidate('aggregate-10k', undefined, 1),
      ],
      plan.aggregateRounds,
    );

    await group(
      'decrypt',
      [
        { key: { impl: 'meterveil', engine: 'v8', op: 'decrypt' }, sample: v8Sampler(() => privateKey.decrypt(c1)) },
        { key: { impl: 'paillier-bigint', engine: 'v8', op: 'decrypt' }, sample: v8Sampler(() => pbPrivate.decrypt(c1)) },
        { key: { impl: 'jsbn', engine: 'v8', op: 'decrypt' }, sample: v8Sampler(() => jsbn.decrypt(c1Jsbn)) },
      ],
      plan.rounds,
    );

    await group(
      'keygen',
      [
        { key: { impl: 'meterveil', engine: 'v8', op: 'keygen' }, sample: await v8AsyncSampler(() => generateKeyPair(bits)), batch: 1 },
        {
          key: { impl: 'paillier-bigint', engine: 'v8', op: 'keygen' },
          sample: await v8AsyncSampler(() => paillierBigint.generateRandomKeys(bits, true)),
          batch: 1,
        },
      ],
      plan.keygenRounds,
    );
  } finally {
    await xs.close();
  }
  return rows;
}

const TARGET_BITS = 2048;
const xsMeterveil = { impl: 'meterveil', engine: 'xs' } as const;

const targets: BenchTarget[] = [
  {
    name: 'XS: full encryption <= 0.5x plain binary square-and-multiply with % in XS',
    bits: TARGET_BITS,
    numerator: { ...xsMeterveil, op: 'encrypt-full' },
    denominator: { ...PLAIN_BINARY_XS, op: 'encrypt-full' },
    maxRatio: 0.5,
  },
  {
    name: 'XS: online encryption from the pool <= 1/2000 of full encryption',
    bits: TARGET_BITS,
    numerator: { ...xsMeterveil, op: 'encrypt-online' },
    denominator: { ...xsMeterveil, op: 'encrypt-full' },
    maxRatio: 1 / 2000,
  },
  {
    name: 'V8: full encryption <= 0.8x paillier-bigint',
    bits: TARGET_BITS,
    numerator: { ...METERVEIL_V8, op: 'encrypt-full' },
    denominator: { ...PAILLIER_BIGINT_V8, op: 'encrypt-full' },
    maxRatio: 0.8,
  },
  {
    name: "V8: CRT decryption <= 0.5x paillier-bigint's decryption",
    bits: TARGET_BITS,
    numerator: { ...METERVEIL_V8, op: 'decrypt' },
    denominator: { ...PAILLIER_BIGINT_V8, op: 'decrypt' },
    maxRatio: 0.5,
  },
  {
    name: "V8: key generation <= 0.1x paillier-bigint's",
    bits: TARGET_BITS,
    numerator: { ...METERVEIL_V8, op: 'keygen' },
    denominator: { ...PAILLIER_BIGINT_V8, op: 'keygen' },
    maxRatio: 0.1,
  },
  {
    name: "V8: aggregation of 10,000 ciphertexts no slower than paillier-bigint's addition loop",
    bits: TARGET_BITS,
    numerator: { ...METERVEIL_V8, op: 'aggregate-10k' },
    denominator: { ...PAILLIER_BIGINT_V8, op: 'aggregate-10k' },
    maxRatio: 1,
  },
];

export const suite: BenchSuite = {
  name: 'core',
  targets,
  async run(context: BenchContext): Promise<SuiteResult> {
    const xsEntry = fileURLToPath(new URL('../core/xs-entry.ts', import.meta.url));
    const rows: BenchRow[] = [];
    for (const bits of context.bits) rows.push(...(await measureKeySize(bits, context, xsEntry)));
    return {
      rows,
      notes: [
        'jsbn keygen: not measured (jsbn is the no-BigInt baseline for modular arithmetic; its prime search alone takes seconds).',
        'paillier-bigint encrypt-online: no API for a precomputed r^n.',
        'XS decrypt and keygen: not measured (host-only operations; the meter never decrypts).',
        'Plaintext: a random 64-bit value (a few packed readings); paillier-bigint keys use g = n + 1.',
      ],
    };
  },
};
