/**
 * The masked scheme (firmware/masked/) side by side with Paillier, at 2048-bit Paillier keys and
 * the firmware suite's meter configuration (15 readings per report, 900 s slots, groups of up to
 * 10,000: W = 15 x the slot width):
 * - per report on the meter, inside XS: the masked slot work (pack, mask, ledger, frame, MAC,
 *   outbox), single key and with three custodians, against Paillier's online slot work (r^n from
 *   the pool) and its full cost (online plus the r^n refill idle time pays); time and computrons;
 * - aggregator ingest per report, masked against Paillier, as the pipeline suite measures it (a
 *   real aggregator process, CPU time per report, and the raw addition in this process);
 * - decryption per group slot at 20 and 1,000 contributors: the masked key holder's mask sum
 *   over the contributors (masks derived on the fly, the keys cached as the provider and the
 *   custodians cache them) and the unmasking, against one CRT decryption, which does not depend
 *   on the number of contributors.
 */
import { randomBytes } from 'node:crypto';
import { deriveMaskKey } from '../../../firmware/masked/mask.ts';
import { generateKeyPair, type KeyPair } from '../../../host/paillier/keygen.ts';
import { nodeHmacSha256 } from '../../../host/protocol/mac.ts';
import { maskSum, unmask } from '../../../host/scheme/unmask.ts';
import { bundle, startXsWorker } from '../../../host/xs/harness.ts';
import { ids } from '../../pipeline/deployment.ts';
import { measureInterleaved, type Candidate } from '../measure.ts';
import type { BenchContext, BenchRow, BenchSuite, RowSelector, SuiteResult } from '../types.ts';
import { computronsPerOp, ENTRY, meterConfig, xsSampler } from './firmware.ts';
import { ingest } from './pipeline.ts';

const BITS = 2048;
const XS = { impl: 'meterveil', engine: 'xs' } as const;
const V8 = { impl: 'meterveil', engine: 'v8' } as const;
const REPORT = 'meter-report';
const row = (variant: string, engine: typeof XS | typeof V8 = XS, op = REPORT): RowSelector => ({ ...engine, op, variant });

async function meterRows(publicKey: KeyPair['publicKey'], context: BenchContext, notes: string[]) {
  const xs = await startXsWorker({ bundle: await bundle(ENTRY) });
  try {
    const setup = await xs.issue({ op: 'setup', config: meterConfig(publicKey) });
    context.log(`  meter: ${setup.readings} readings of ${setup.slotBits} bits; masked values of ${setup.maskedBits} bits`);
    const operations: [string, string, number | undefined][] = [
      ['paillier-online', 'slot-work', undefined],
      ['paillier-online-custodians', 'slot-work-custodians', undefined],
      ['masked', 'masked-slot-work', undefined],
      ['masked-custodians', 'masked-slot-work-custodians', undefined],
      ['paillier-refill-rn', 'refill-rn', 1],
    ];
    const candidates: Candidate<RowSelector>[] = operations.map(([variant, name, batch]) => ({
      key: row(variant),
      sample: xsSampler(xs, name),
      ...(batch ? { batch } : {}),
    }));
    const measured = await measureInterleaved(candidates, context.quick ? 3 : 9, 50);
    const rows: BenchRow[] = [];
    for (const [i, m] of measured.entries()) {
      const [variant, name, batch] = operations[i];
      rows.push({
        ...m.key,
        bits: BITS,
        ms: m.msPerOp,
        samples: m.samples,
        batch: m.batch,
        computrons: Math.round(await computronsPerOp(xs, name, batch ?? 10)),
        ...(variant === 'masked' ? { peer: row('paillier-online') } : {}),
        ...(variant === 'masked-custodians' ? { peer: row('paillier-online-custodians') } : {}),
      });
    }
    const of = (variant: string) => rows.find((r) => r.variant === variant)!;
    const refill = of('paillier-refill-rn');
    // Full: what one report costs the meter in all, the online work and the r^n its idle time refills.
    for (const online of ['paillier-online', 'paillier-online-custodians']) {
      const o = of(online);
      rows.push({
        ...row(online.replace('online', 'full')),
        bits: BITS,
        ms: o.ms + refill.ms,
        computrons: o.computrons! + refill.computrons!,
        samples: o.samples,
        batch: 1,
        peer: row(online.endsWith('custodians') ? 'masked-custodians' : 'masked'),
      });
    }
    const full = of('paillier-full');
    notes.push(
      `masked: per report on the meter in XS, ${of('masked').ms.toFixed(3)} ms (${of('masked').computrons!.toLocaleString('en-US')} computrons) against ` +
        `Paillier's ${of('paillier-online').ms.toFixed(3)} ms online and ${full.ms.toFixed(1)} ms full: ` +
        `${(full.ms / of('masked').ms).toFixed(0)}x less time and ${(full.computrons! / of('masked').computrons!).toFixed(0)}x fewer computrons than Paillier in full`,
    );
    return { rows, maskedBits: setup.maskedBits as number };
  } finally {
    await xs.close();
  }
}

async function decryptionRows(keyPair: KeyPair, maskedBits: number, context: BenchContext): Promise<BenchRow[]> {
  const params = { bits: maskedBits, bytes: Math.ceil(maskedBits / 8) };
  const keyId = '00000000000000aa';
  const meters = ids('m', 1000);
  const keys = new Map(meters.map((m) => [m, deriveMaskKey(new Uint8Array(randomBytes(32)), keyId, 0, nodeHmacSha256)]));
  const aggregate = BigInt('0x' + randomBytes(params.bytes).toString('hex')) % (1n << BigInt(params.bits));
  const c = keyPair.publicKey.encrypt(12_345n, (n) => new Uint8Array(randomBytes(n)));
  const unmaskFor = (contributors: string[]) => (batch: number) => {
    const start = performance.now();
    for (let i = 0; i < batch; i++) unmask(aggregate, [maskSum((m) => keys.get(m), contributors, keyId, 30_000_000 + i, params)], params);
    return Promise.resolve(performance.now() - start);
  };
  const crt = row('paillier-crt', V8, 'decrypt-group-slot');
  const candidates: Candidate<RowSelector>[] = [
    {
      key: crt,
      sample: (batch) => {
        const start = performance.now();
        for (let i = 0; i < batch; i++) keyPair.privateKey.decrypt(c);
        return Promise.resolve(performance.now() - start);
      },
    },
    { key: row('masked-20', V8, 'decrypt-group-slot'), sample: unmaskFor(meters.slice(0, 20)) },
    { key: row('masked-1000', V8, 'decrypt-group-slot'), sample: unmaskFor(meters) },
  ];
  context.log(`  decryption per group slot: CRT against mask sums of 20 and 1,000 contributors (W = ${params.bits} bits)`);
  const measured = await measureInterleaved(candidates, context.quick ? 3 : 9, 50);
  return measured.map((m) => ({
    ...m.key,
    bits: BITS,
    ms: m.msPerOp,
    samples: m.samples,
    batch: m.batch,
    ...(m.key.variant === 'paillier-crt' ? {} : { peer: crt }),
  }));
}

/** The masked ingest rows with the Paillier ingest row of the same name as their peer. */
async function ingestRows(context: BenchContext): Promise<BenchRow[]> {
  const naming = (scheme: string) => ({ op: 'ingest-per-report', prefix: `${scheme}-` });
  context.log('  ingest: Paillier');
  const paillier = await ingest(context, 'paillier', naming('paillier'));
  context.log('  ingest: masked');
  const masked = await ingest(context, 'masked', naming('masked'));
  // Raw against raw (an addition modulo 2^W against a mulmod n^2), ingest against ingest.
  const peerOf = (variant: string) => ({
    ...V8,
    op: 'ingest-per-report',
    variant: variant === 'masked-raw-add-mod-2^W' ? 'paillier-raw-mulmod' : variant.replace('masked-', 'paillier-'),
  });
  return [...paillier.map(({ peer: _, ...r }) => r), ...masked.map((r) => ({ ...r, peer: peerOf(r.variant!) }))];
}

export const suite: BenchSuite = {
  name: 'masked',
  async run(context): Promise<SuiteResult> {
    if (!context.bits.includes(BITS)) return { rows: [], notes: ['masked: measured against 2048-bit Paillier only'] };
    const notes: string[] = [];
    const keyPair = await generateKeyPair(BITS, 'classic');
    const meter = await meterRows(keyPair.publicKey, context, notes);
    const rows = [...meter.rows, ...(await decryptionRows(keyPair, meter.maskedBits, context)), ...(await ingestRows(context))];
    return { rows, notes };
  },
};
