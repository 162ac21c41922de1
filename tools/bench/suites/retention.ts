/**
 * Ingest while collection runs (docs/pipeline.md "Retention"), 2048-bit keys, the embedded broker,
 * the aggregator as its own process with its background collection every second. 200 meters send
 * ten slots of pre-encrypted reports; the wall-clock time per report is measured once with nothing
 * to collect, and once while the aggregator collects 300,000 seen rows of old slots (written into
 * its file before it starts) in batches of retention.batchRows. The rows report both rates, the
 * collection's rows per second, and the share of the second ingest that ran with collection still
 * going (it must be 100% for the comparison to mean anything).
 */
import Database from 'better-sqlite3';
import { aggregatorStorePath } from '../../../host/aggregator/run.ts';
import { AggregatorStore } from '../../../host/aggregator/store.ts';
import { slotAt } from '../../../host/protocol/slots.ts';
import { deploy, ids } from '../../pipeline/deployment.ts';
import type { NodeMeter } from '../../../host/simulate/node-meter.ts';
import { RoleProcess } from '../../pipeline/role-process.ts';
import { benchRandomness } from '../pipeline/bench-meters.ts';
import type { BenchContext, BenchRow, BenchSuite } from '../types.ts';

const BITS = 2048;
const METERS = 200;
const BATCH_ROWS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Seen rows (and their published slots) of `slots` old slots, as an aggregator that ran for a while would hold. */
function writeOldRows(path: string, groupId: string, members: string[], firstSlot: number, slots: number, keyId: string): number {
  new AggregatorStore(path, { groupId }).close();
  const db = new Database(path);
  try {
    const seen = db.prepare('INSERT INTO seen (slot, meter_id, key_id, seq, received_at) VALUES (?, ?, ?, ?, 0)');
    const slot = db.prepare(`INSERT INTO slots (slot, key_id, state, product, count, closed_at) VALUES (?, ?, 'published', x'01', ?, 0)`);
    db.transaction(() => {
      for (let s = firstSlot; s < firstSlot + slots; s++) {
        slot.run(s, keyId, members.length);
        for (const m of members) seen.run(s, m, keyId, s);
      }
    })();
  } finally {
    db.close();
  }
  return slots * members.length;
}

async function sendSlots(meters: NodeMeter[], slots: number[]): Promise<number> {
  const reports = slots.flatMap((slot) => meters.map((m, i) => ({ m, slot, bytes: m.encode(slot, [BigInt(i + (slot % 100))]) })));
  const t0 = performance.now();
  await Promise.all(reports.map((r) => r.m.send(r.slot, r.bytes)));
  return performance.now() - t0;
}

async function ingestDuringCollection(context: BenchContext): Promise<BenchRow[]> {
  const members = ids('r', METERS);
  const d = await deploy({
    groups: [{ id: 'bench', members, feeder: 'feeder-bench', k: 2 }],
    extra: { slotSeconds: 60, latenessSeconds: 7200, skewSeconds: 60, retention: { collectSeconds: 1, batchRows: BATCH_ROWS } },
  });
  const path = aggregatorStorePath(d.config, 'bench');
  const aggregator = () => new RoleProcess(['aggregator', '--config', d.configPath, '--group', 'bench']);
  let running = aggregator();
  try {
    const rn = benchRandomness(d.publicKey);
    const meters = await Promise.all(members.map((m) => d.meter(m, ['bench'], { rn, resendMs: 600_000 })));
    const now = slotAt(Date.now(), 60);
    const slotsPerPhase = context.quick ? 3 : 10;
    const phase = (k: number) => Array.from({ length: slotsPerPhase }, (_, i) => now - 2 * slotsPerPhase + k * slotsPerPhase + i);
    const reports = slotsPerPhase * METERS;

    await running.start();
    await sleep(500);
    context.log(`  retention: ${reports} reports with nothing to collect`);
    const quiet = await sendSlots(meters, phase(0));
    await running.stop();

    const oldSlots = context.quick ? 300 : 1500;
    const rows = writeOldRows(path, 'bench', members, now - 100_000, oldSlots, d.publicKey.keyId);
    const file = new Database(path, { readonly: true });
    const seen = () => file.prepare('SELECT count(*) FROM seen').pluck().get() as number;
    try {
      running = aggregator();
      await running.start();
      while (seen() > rows + reports - BATCH_ROWS) await sleep(20);
      const started = performance.now();
      const atStart = seen();
      context.log(`  retention: ${reports} reports while the aggregator collects ${rows} old seen rows`);
      const busy = await sendSlots(meters, phase(1));
      const leftAfterIngest = seen() - reports * 2;
      while (seen() > reports * 2) await sleep(50);
      const collectMs = performance.now() - started;
      const collected = atStart - reports;
      context.log(`  retention: collection ${leftAfterIngest > 0 ? 'outlasted' : 'ended before the end of'} the ingest`);
      const V8 = { impl: 'meterveil', engine: 'v8', op: 'ingest-per-report' } as const;
      const base = { ...V8, variant: 'no-collection' };
      return [
        { ...base, bits: BITS, ms: quiet / reports, samples: 1, batch: reports },
        {
          ...V8,
          variant: leftAfterIngest > 0 ? 'during-collection' : 'partly-during-collection',
          bits: BITS,
          ms: busy / reports,
          samples: 1,
          batch: reports,
          peer: base,
        },
        {
          impl: 'meterveil',
          engine: 'v8',
          op: 'collect-per-row',
          variant: `batches-of-${BATCH_ROWS}`,
          bits: BITS,
          ms: collectMs / collected,
          samples: 1,
          batch: collected,
        },
      ];
    } finally {
      file.close();
    }
  } finally {
    await running.stop();
    await d.cleanup();
  }
}

export const suite: BenchSuite = {
  name: 'retention',
  async run(context) {
    if (!context.bits.includes(BITS)) return { rows: [], notes: ['retention: measured at 2048 bits only'] };
    const notes = context.bits.some((b) => b !== BITS) ? ['retention: measured at 2048 bits only'] : [];
    return { rows: await ingestDuringCollection(context), notes };
  },
};
