/**
 * The pipeline under load, 2048-bit keys, real broker (embedded aedes), roles as processes.
 * - Ingest: 200 meters send reports (pre-encrypted) to one aggregator process; its CPU time per
 *   report (MQTT receive, MAC check, de-duplication, homomorphic add, SQLite commit, MAC'd ack)
 *   against one raw homomorphic addition (a mulmod n^2) in this process, both in CPU time, the
 *   addition timed before and after the ingest. Wall-clock time per report of the whole machine
 *   (broker and meters included) is shown too.
 * - End to end: 1,000 meters in 4 groups of 250 report every 1 s slot for 60 slots; the provider
 *   decrypts; we report group-slots decrypted per second and the latency from a slot's end to its
 *   stored total (which includes the 2 s lateness the aggregators wait before closing a slot).
 */
import Database from 'better-sqlite3';
import { providerStorePath } from '../../../host/provider/run.ts';
import { slotAt, slotEndMs } from '../../../host/protocol/slots.ts';
import { deploy, freePort, ids } from '../../pipeline/deployment.ts';
import { RoleProcess } from '../../pipeline/role-process.ts';
import { median } from '../measure.ts';
import type { BenchContext, BenchRow, BenchSuite, SuiteResult } from '../types.ts';
import { benchRandomness } from '../pipeline/bench-meters.ts';
import { processCpuMs } from '../pipeline/process-cpu.ts';
import { rawAdditionSamples } from '../pipeline/raw-addition.ts';
import { maskedScheme } from '../../../host/scheme/aggregation.ts';
import { maskedParamsOfConfig } from '../../../host/scheme/of-config.ts';

const V8 = { impl: 'meterveil', engine: 'v8' } as const;
const BITS = 2048;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The ingest rows of one scheme: Paillier's (this suite's), or the masked scheme's (the masked
 * suite's, side by side with Paillier's there: `op` and a variant prefix keep the two apart).
 */
export async function ingest(
  context: BenchContext,
  scheme: 'paillier' | 'masked' = 'paillier',
  naming: { op: string; prefix: string } = { op: 'aggregate-add', prefix: '' },
): Promise<BenchRow[]> {
  const meterCount = 200;
  const slotsPerMeter = context.quick ? 10 : 50;
  const members = ids('b', meterCount);
  const d = await deploy({
    groups: [{ id: 'bench', members, feeder: 'feeder-bench', k: 2 }],
    extra: { slotSeconds: 60, latenessSeconds: 7200, skewSeconds: 60 },
    ...(scheme === 'masked' ? { masked: {} } : {}),
  });
  const aggregator = new RoleProcess(['aggregator', '--config', d.configPath, '--group', 'bench']);
  try {
    await aggregator.start();
    const masked = scheme === 'masked' ? maskedParamsOfConfig(d.config) : undefined;
    const rn = masked ? undefined : benchRandomness(d.publicKey);
    const meters = await Promise.all(members.map((m) => d.meter(m, ['bench'], { ...(rn ? { rn } : {}), resendMs: 600_000 })));
    const current = slotAt(Date.now(), 60);
    context.log(`  ingest: encrypting ${meterCount * slotsPerMeter} reports`);
    // Slot by slot, as meters report in the field: every meter's report of one slot, then the next.
    const reports = Array.from({ length: slotsPerMeter }, (_, s) =>
      meters.map((m, i) => ({
        m,
        slot: current - slotsPerMeter + 1 + s,
        bytes: m.encode(current - slotsPerMeter + 1 + s, [BigInt(i + s)]),
      })),
    ).flat();
    // The peer, on the same ciphertexts (the reports end with them, the authenticator count, 0
    // here, and the tag), before and after the ingest: a load that comes or goes during the run
    // weighs on both sides.
    const { publicKey } = d;
    const ciphertextBytes = masked ? masked.bytes : publicKey.ciphertextBytes;
    const values = reports.map(({ bytes: b }) =>
      BigInt('0x' + Buffer.from(b.subarray(b.length - 33 - ciphertextBytes, b.length - 33)).toString('hex')),
    );
    const combine = masked ? maskedScheme('bench', masked).combine : (a: bigint, c: bigint) => publicKey.arith.mul(a, c);
    const addSamples = rawAdditionSamples(combine, masked ? 0n : 1n, values, 3);
    await sleep(500);
    context.log(`  ingest: ${reports.length} reports through the broker into the aggregator process`);
    const cpu0 = processCpuMs(aggregator.pid!);
    const t0 = performance.now();
    await Promise.all(reports.map((r) => r.m.send(r.slot, r.bytes)));
    const wall = performance.now() - t0;
    const cpu = processCpuMs(aggregator.pid!) - cpu0;

    addSamples.push(...rawAdditionSamples(combine, masked ? 0n : 1n, values, 3));
    const { op, prefix } = naming;
    const raw = { ...V8, op, variant: `${prefix}${masked ? 'raw-add-mod-2^W' : 'raw-mulmod'}` };
    return [
      { ...raw, bits: BITS, ms: median(addSamples), samples: addSamples.length, batch: values.length },
      {
        ...V8,
        op,
        variant: `${prefix}aggregator-ingest-cpu`,
        bits: BITS,
        ms: cpu / reports.length,
        samples: 1,
        batch: reports.length,
        peer: raw,
      },
      {
        ...V8,
        op,
        variant: `${prefix}ingest-wall-clock-whole-machine`,
        bits: BITS,
        ms: wall / reports.length,
        samples: 1,
        batch: reports.length,
        peer: raw,
      },
    ];
  } finally {
    await aggregator.stop();
    await d.cleanup();
  }
}

async function endToEnd(context: BenchContext): Promise<{ rows: BenchRow[]; notes: string[] }> {
  const groupCount = 4;
  const perGroup = context.quick ? 50 : 250;
  const slotCount = context.quick ? 10 : 60;
  const httpPort = await freePort();
  const groups = Array.from({ length: groupCount }, (_, g) => ({
    id: `g${g + 1}`,
    members: ids(`g${g + 1}m`, perGroup),
    feeder: `feeder-g${g + 1}`,
    k: 10,
  }));
  const d = await deploy({
    groups,
    extra: { slotSeconds: 1, latenessSeconds: 2, skewSeconds: 2, http: { host: '127.0.0.1', port: httpPort } },
  });
  const roles = [
    new RoleProcess(['provider', '--config', d.configPath]),
    ...groups.map((g) => new RoleProcess(['aggregator', '--config', d.configPath, '--group', g.id])),
  ];
  try {
    await Promise.all(roles.map((r) => r.start()));
    const rn = benchRandomness(d.publicKey);
    context.log(`  end to end: connecting ${groupCount * perGroup} meters`);
    const meters = (await Promise.all(groups.flatMap((g) => g.members.map((m) => d.meter(m, [g.id], { rn }))))).map((m, i) => ({ m, i }));
    const first = slotAt(Date.now(), 1) + 1;
    const expectedTotals = new Map<number, bigint>();
    context.log(`  end to end: ${slotCount} slots of 1 s`);
    for (let s = first; s < first + slotCount; s++) {
      await sleep(Math.max(0, slotEndMs(s, 1) - Date.now()));
      // At the end of slot s each meter reports it (it cannot know its reading earlier).
      for (const { m, i } of meters) void m.report(s, [BigInt(i % 50)]);
      expectedTotals.set(s, 0n);
    }
    await sleep(5000);
    const db = new Database(providerStorePath(d.config), { readonly: true });
    const rows = db.prepare('SELECT slot, decrypted_at FROM series WHERE slot >= ? AND slot < ?').all(first, first + slotCount) as {
      slot: number;
      decrypted_at: number;
    }[];
    db.close();
    const latencies = rows.map((r) => r.decrypted_at - slotEndMs(r.slot, 1));
    const span = (Math.max(...rows.map((r) => r.decrypted_at)) - slotEndMs(first, 1)) / 1000;
    const perSecond = rows.length / span;
    const sorted = [...latencies].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? NaN;
    const notes = [
      `end to end: ${groupCount * perGroup} meters, ${groupCount} groups, ${slotCount} slots of 1 s: ${rows.length} of ${groupCount * slotCount} group-slots decrypted, ` +
        `${perSecond.toFixed(2)} group-slots/s (${(perSecond / groupCount).toFixed(2)} slots/s), latency from slot end to stored total median ${median(latencies).toFixed(0)} ms, p95 ${p95.toFixed(0)} ms (includes the 2 s lateness)`,
    ];
    return {
      rows: [
        {
          ...V8,
          op: 'pipeline-e2e',
          variant: 'slot-end-to-stored-latency',
          bits: BITS,
          ms: median(latencies),
          samples: latencies.length,
          batch: 1,
        },
        { ...V8, op: 'pipeline-e2e', variant: 'time-per-group-slot', bits: BITS, ms: 1000 / perSecond, samples: 1, batch: rows.length },
      ],
      notes,
    };
  } finally {
    await Promise.all(roles.map((r) => r.stop()));
    await d.cleanup();
  }
}

export const suite: BenchSuite = {
  name: 'pipeline',
  async run(context): Promise<SuiteResult> {
    const notes: string[] = [];
    if (!context.bits.includes(BITS)) return { rows: [], notes: ['pipeline: measured at 2048 bits only'] };
    if (context.bits.some((b) => b !== BITS)) notes.push('pipeline: measured at 2048 bits only');
    const rows = await ingest(context);
    const e2e = await endToEnd(context);
    return { rows: [...rows, ...e2e.rows], notes: [...notes, ...e2e.notes] };
  },
  targets: [
    {
      name: 'aggregator ingest rate >= 1/2 of the raw homomorphic-addition rate',
      bits: BITS,
      numerator: { ...V8, op: 'aggregate-add', variant: 'aggregator-ingest-cpu' },
      denominator: { ...V8, op: 'aggregate-add', variant: 'raw-mulmod' },
      maxRatio: 2,
    },
  ],
};
