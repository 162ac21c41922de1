/**
 * Threshold decryption against single-key CRT decryption, and threshold key generation (safe
 * primes) against single-key generation. "total" runs every custodian's partial decryption and
 * the combination in one process (the CPU the whole decryption costs). Custodians work in
 * parallel on their own machines, so the latency is the critical path: one partial decryption
 * with its proof, then the provider's combination with the T proofs checked ("critical-path"; the
 * provider never combines a partial whose proof it has not checked).
 */
import { randomBytes } from 'node:crypto';
import { measureInterleaved, type Candidate } from '../measure.ts';
import { generateKeyPair } from '../../../host/paillier/keygen.ts';
import { combinePartials } from '../../../host/threshold/combine.ts';
import { generateThresholdKey } from '../../../host/threshold/dealer.ts';
import { partialDecrypt, precomputeProofNonce } from '../../../host/threshold/partial.ts';
import type { PrecomputedNonce } from '../../../host/threshold/proof.ts';
import type { BenchContext, BenchRow, BenchSuite, BenchTarget, RowSelector, SuiteResult } from '../types.ts';

type Key = RowSelector;
const V8 = { impl: 'meterveil', engine: 'v8' } as const;
const random = (length: number) => new Uint8Array(randomBytes(length));
let _sink: unknown;

function sampler(operation: () => unknown) {
  return async (batch: number) => {
    const start = performance.now();
    for (let i = 0; i < batch; i++) _sink = await operation();
    return performance.now() - start;
  };
}

/** Like sampler, with one proof nonce per operation prepared before the clock starts (a custodian does that in idle time). */
function pooledSampler(key: Parameters<typeof precomputeProofNonce>[0], operation: (nonce: PrecomputedNonce) => unknown) {
  return async (batch: number) => {
    const nonces = Array.from({ length: batch }, () => precomputeProofNonce(key));
    const start = performance.now();
    for (let i = 0; i < batch; i++) _sink = await operation(nonces[i]);
    return performance.now() - start;
  };
}

const SHAPES = [
  [2, 3],
  [3, 5],
] as const;

async function measureKeySize(bits: number, context: BenchContext): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const push = (measured: { key: Key; msPerOp: number; samples: number; batch: number }[], peer?: BenchRow['peer']) => {
    for (const m of measured) rows.push({ ...m.key, bits, ms: m.msPerOp, samples: m.samples, batch: m.batch, ...(peer ? { peer } : {}) });
  };

  context.log(`  ${bits} bits: decryption`);
  const pair = await generateKeyPair(bits);
  const sets = await Promise.all(SHAPES.map(([t, n]) => generateThresholdKey({ bits, threshold: t, custodians: n })));
  const decryption: Candidate<Key>[] = [];
  const crtCiphertext = pair.publicKey.encrypt(123456789n, random);
  decryption.push({
    key: { ...V8, op: 'threshold-decrypt', variant: 'crt-single-key' },
    sample: sampler(() => pair.privateKey.decrypt(crtCiphertext)),
  });
  for (const { publicKey, shares } of sets) {
    const shape = `${publicKey.threshold}of${publicKey.custodians}`;
    const c = publicKey.paillier.encrypt(123456789n, random);
    const chosen = shares.slice(0, publicKey.threshold);
    const partials = chosen.map((share) => partialDecrypt(share, c));
    decryption.push(
      {
        key: { ...V8, op: 'threshold-decrypt', variant: `${shape}-total` },
        sample: sampler(() =>
          combinePartials(
            publicKey,
            c,
            chosen.map((share) => partialDecrypt(share, c)),
          ),
        ),
      },
      { key: { ...V8, op: 'threshold-decrypt', variant: `${shape}-one-partial` }, sample: sampler(() => partialDecrypt(chosen[0], c)) },
      {
        key: { ...V8, op: 'threshold-decrypt', variant: `${shape}-combine` },
        sample: sampler(() => combinePartials(publicKey, c, partials)),
      },
      {
        key: { ...V8, op: 'threshold-decrypt', variant: `${shape}-critical-path` },
        sample: sampler(() => combinePartials(publicKey, c, [partialDecrypt(chosen[0], c), ...partials.slice(1)])),
      },
      {
        key: { ...V8, op: 'threshold-decrypt', variant: `${shape}-one-partial-pooled-nonce` },
        sample: pooledSampler(publicKey, (nonce) => partialDecrypt(chosen[0], c, undefined, nonce)),
      },
      {
        key: { ...V8, op: 'threshold-decrypt', variant: `${shape}-critical-path-pooled-nonce` },
        sample: pooledSampler(publicKey, (nonce) =>
          combinePartials(publicKey, c, [partialDecrypt(chosen[0], c, undefined, nonce), ...partials.slice(1)]),
        ),
      },
    );
  }
  const peer = { ...V8, variant: 'crt-single-key' };
  push(await measureInterleaved(decryption, context.quick ? 3 : 9, context.quick ? 50 : 200), peer);

  // Safe primes are found by luck: the spread is wide, so take the median of several runs.
  const keygenRounds = context.quick || bits > 2048 ? 3 : 7;
  context.log(`  ${bits} bits: key generation, ${keygenRounds} rounds`);
  push(
    await measureInterleaved<Key>(
      [
        { key: { ...V8, op: 'threshold-keygen', variant: 'single-key' }, sample: sampler(() => generateKeyPair(bits)), batch: 1 },
        {
          key: { ...V8, op: 'threshold-keygen', variant: '2of3-safe-primes' },
          sample: sampler(() => generateThresholdKey({ bits, threshold: 2, custodians: 3 })),
          batch: 1,
        },
      ],
      keygenRounds,
    ),
    { ...V8, variant: 'single-key' },
  );
  return rows;
}

const crt = { ...V8, op: 'threshold-decrypt', variant: 'crt-single-key' };
const targets: BenchTarget[] = SHAPES.flatMap(([t, n]) => [
  {
    name: `V8: threshold decryption ${t} of ${n} (all partials + combination, one process) <= 10x CRT single-key decryption`,
    bits: 2048,
    numerator: { ...V8, op: 'threshold-decrypt', variant: `${t}of${n}-total` },
    denominator: crt,
    maxRatio: 10,
  },
  {
    name: `V8: threshold decryption ${t} of ${n} critical path (one partial with proof + combination with ${t} proofs checked) <= 10x CRT`,
    bits: 2048,
    numerator: { ...V8, op: 'threshold-decrypt', variant: `${t}of${n}-critical-path` },
    denominator: crt,
    maxRatio: 10,
  },
  {
    name: `V8: threshold decryption ${t} of ${n} critical path as the pipeline runs it (proof nonce prepared ahead, ${t} proofs checked) <= 10x CRT`,
    bits: 2048,
    numerator: { ...V8, op: 'threshold-decrypt', variant: `${t}of${n}-critical-path-pooled-nonce` },
    denominator: crt,
    maxRatio: 10,
  },
]);

export const suite: BenchSuite = {
  name: 'threshold',
  targets,
  async run(context): Promise<SuiteResult> {
    const rows: BenchRow[] = [];
    for (const bits of context.bits) rows.push(...(await measureKeySize(bits, context)));
    return {
      rows,
      notes: [
        'threshold-decrypt total = T partial decryptions (each with its proof) + verification of T proofs + combination (the CPU of one decryption, everything in one process)',
        'critical-path = one partial with its proof + combination with T proofs checked (latency with custodians in parallel; the provider combines only partials whose proofs it checked); pooled-nonce = the proof of the partial uses a nonce with v^nonce prepared in idle time, as the custodian service does',
        "threshold-keygen 2of3-safe-primes: two safe primes p = 2p'+1 from OpenSSL (node:crypto), then shares and verification keys",
      ],
    };
  },
};
