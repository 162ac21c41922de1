/**
 * The deployment at fleet scale (`meterveil load`, host/load/): 10,000 and 100,000 simulated
 * meters with 60 s slots, real 2048-bit reports, groups of 1,000 (one aggregator process each),
 * on the embedded broker (aedes in its own process), on mosquitto and on a three-node NATS cluster.
 * Per run: reports per second
 * sustained, aggregator CPU per report against one raw homomorphic addition, broker CPU and peak
 * memory per 1,000 meters, slot end to stored total latency (median, p99), and lost and doubled
 * reports, which must be 0. --quick: 1,000 meters, 10 s slots. --meters, --duration and
 * --brokers choose other runs.
 */
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '../../../host/paillier/keygen.ts';
import { runLoad, type LoadResult } from '../../../host/load/run.ts';
import { LOAD_BROKERS, type LoadBroker } from '../../../host/load/layout.ts';
import type { RoleLog } from '../../../host/log/logger.ts';
import { median } from '../measure.ts';
import { rawAdditionSamples } from '../pipeline/raw-addition.ts';
import type { BenchContext, BenchRow, BenchSuite, SuiteResult } from '../types.ts';

const V8 = { impl: 'meterveil', engine: 'v8' } as const;
const BITS = 2048;
const RAW = { ...V8, op: 'aggregate-add', variant: 'raw-mulmod' } as const;

/** One raw homomorphic addition (a product mod n^2) at 2048 bits, in this process, in CPU time as the aggregators' is read. */
async function rawAddition(): Promise<number> {
  const { publicKey } = await generateKeyPair(BITS);
  const random = (n: number) => new Uint8Array(randomBytes(n));
  const ciphertexts = Array.from({ length: 64 }, () => publicKey.encrypt(1n, random));
  const values = Array.from({ length: 4096 }, (_, i) => ciphertexts[i & 63]);
  return median(rawAdditionSamples((a, c) => publicKey.arith.mul(a, c), 1n, values, 7));
}

function rowsOf(r: LoadResult, broker: LoadBroker): BenchRow[] {
  const variant = `${broker}-${r.meters}`;
  return [
    {
      ...V8,
      op: 'scale-report',
      variant: `${variant}-sustained`,
      bits: BITS,
      ms: 1000 / r.reportsPerSecond,
      samples: r.slots,
      batch: r.reports,
    },
    {
      ...V8,
      op: 'aggregate-add',
      variant: `${variant}-aggregator-cpu`,
      bits: BITS,
      ms: r.aggregatorCpuMsPerReport,
      samples: 1,
      batch: r.reports,
      peer: RAW,
    },
    {
      ...V8,
      op: 'scale-slot-latency',
      variant: `${variant}-median`,
      bits: BITS,
      ms: r.latencyMedianMs,
      samples: r.verdict.decrypted,
      batch: 1,
    },
    { ...V8, op: 'scale-slot-latency', variant: `${variant}-p99`, bits: BITS, ms: r.latencyP99Ms, samples: r.verdict.decrypted, batch: 1 },
    {
      ...V8,
      op: 'scale-broker-cpu',
      variant: `${variant}-per-1000-meters-per-s`,
      bits: BITS,
      ms: r.brokerCpuMsPer1000MetersPerSecond,
      samples: 1,
      batch: 1,
    },
  ];
}

export function scaleNote(r: LoadResult, broker: LoadBroker): string {
  const v = r.verdict;
  return (
    `scale ${broker} ${r.meters} meters (${r.groups} groups, ${r.slots} slots): ${r.reportsPerSecond.toFixed(0)} reports/s sustained (offered ${r.offeredPerSecond.toFixed(0)}), ` +
    `aggregator CPU ${r.aggregatorCpuMsPerReport.toFixed(3)} ms/report, broker CPU ${r.brokerCpuMsPer1000MetersPerSecond.toFixed(1)} ms/s ` +
    `and ${r.brokerPeakRssMiBPer1000Meters.toFixed(1)} MiB per 1,000 meters (peak ${r.brokerPeakRssMiB.toFixed(0)} MiB), ` +
    `slot end to stored total median ${r.latencyMedianMs.toFixed(0)} ms p99 ${r.latencyP99Ms.toFixed(0)} ms (lateness ${r.latenessSeconds} s), ` +
    `${v.correct}/${v.groupSlots} group-slots right, ${v.undecrypted} not decrypted in time, lost ${v.lost}, doubled ${v.doubled}; missing from a total, ${v.refused} refused by their aggregator (late) and ${v.notAcknowledged} not acknowledged by the deadline; ` +
    `${r.held} own connections` +
    (r.meters > r.held ? `, ${r.meters - r.held} identities multiplexed over ${r.rotating} short-lived connections at a time` : '') +
    `; randomness computed ahead in ${r.poolSeconds.toFixed(0)} s`
  );
}

/** The load run's progress lines on the benchmark's stderr, its table alone on stdout. */
function progress(context: BenchContext): RoleLog {
  const line = (fields: unknown, msg?: string) => context.log(`    ${typeof fields === 'string' ? fields : (msg ?? '')}`);
  return { info: line, warn: line, error: line, debug: () => {} } as unknown as RoleLog;
}

export const suite: BenchSuite = {
  name: 'scale',
  async run(context: BenchContext): Promise<SuiteResult> {
    if (!context.bits.includes(BITS)) return { rows: [], notes: ['scale: measured at 2048 bits only'] };
    const meters = context.meters ?? (context.quick ? [1000] : [10_000, 100_000]);
    const slotSeconds = context.quick ? 10 : 60;
    const durationSeconds = context.durationSeconds ?? 2 * slotSeconds;
    const brokers = (context.brokers ?? LOAD_BROKERS) as LoadBroker[];
    const notes: string[] = [];
    const add = await rawAddition();
    const rows: BenchRow[] = [{ ...RAW, bits: BITS, ms: add, samples: 7, batch: 4096 }];
    for (const n of meters) {
      for (const broker of brokers) {
        context.log(`  scale: ${n} meters on ${broker}, ${durationSeconds / slotSeconds} slots of ${slotSeconds} s`);
        let r: LoadResult;
        try {
          r = await runLoad({
            meters: n,
            slotSeconds,
            durationSeconds,
            groupSize: Math.min(1000, Math.max(2, Math.floor(n / 4))),
            broker,
            host: '127.0.0.1',
            // Meters spread their reports over most of the minute: 100,000 of them offer about 1,850/s.
            spread: 0.9,
            log: progress(context),
          });
        } catch (e) {
          // One run that cannot finish is a note; the other runs still count.
          notes.push(`scale ${broker} ${n} meters: not measured: ${(e as Error).message}`);
          context.log(`    ${notes.at(-1)}`);
          continue;
        }
        rows.push(...rowsOf(r, broker));
        notes.push(scaleNote(r, broker));
        context.log(`    ${scaleNote(r, broker)}`);
      }
    }
    return { rows, notes };
  },
  targets: [],
};
