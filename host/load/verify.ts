/**
 * The load run's check, against the provider's store: every (group, slot) the generator reported
 * was decrypted once, from exactly the group's members, each counted once, and its per-sub-slot
 * totals are the sums of the readings the generator encrypted. Only the verdict and the counts
 * leave this module; the expected sums stay in memory.
 */
import Database from 'better-sqlite3';
import { slotEndMs } from '../protocol/slots.ts';

export interface SlotExpectation {
  slot: number;
  expected: Map<string, bigint[]>;
  /** Per group: the members whose report it acknowledged as stored, so that a decrypted total must count them. */
  stored: Map<string, Set<string>>;
  /** Per group: the members whose report it refused (arrived after the slot had closed). */
  refused: Map<string, Set<string>>;
}

export interface Verdict {
  groupSlots: number;
  decrypted: number;
  /** Decrypted with the expected contributors and totals. */
  correct: number;
  wrongTotals: number;
  /** Group-slots not decrypted by the end of the wait. */
  undecrypted: number;
  /** Acknowledged reports missing from a decrypted total: the aggregator had stored them. */
  lost: number;
  /** Members missing from a decrypted total whose report the aggregator refused, e.g. `slot-closed` after the lateness. */
  refused: number;
  /**
   * Members missing from a decrypted total whose report was not acknowledged by the generator's
   * deadline (never sent in time, or still in flight): what the generator could not offer, not a loss.
   */
  notAcknowledged: number;
  /** Contributors counted more than once in one total. */
  doubled: number;
  /** Slot end to stored total, ms, ascending. */
  latenciesMs: number[];
}

interface Row {
  group_id: string;
  slot: number;
  contributors: string;
  readings: string;
  decrypted_at: number;
}

export function readSeries(storePath: string, slots: number[]): Row[] {
  const db = new Database(storePath, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT group_id, slot, contributors, readings, decrypted_at FROM series WHERE slot >= ? AND slot <= ?')
      .all(Math.min(...slots), Math.max(...slots)) as Row[];
  } finally {
    db.close();
  }
}

export function verify(rows: Row[], sent: SlotExpectation[], members: Map<string, string[]>, slotSeconds: number): Verdict {
  const verdict: Verdict = {
    groupSlots: 0,
    decrypted: 0,
    correct: 0,
    wrongTotals: 0,
    undecrypted: 0,
    lost: 0,
    refused: 0,
    notAcknowledged: 0,
    doubled: 0,
    latenciesMs: [],
  };
  const byKey = new Map(rows.map((r) => [`${r.group_id}/${r.slot}`, r]));
  for (const { slot, expected, stored, refused } of sent) {
    for (const [group, sums] of expected) {
      verdict.groupSlots++;
      const row = byKey.get(`${group}/${slot}`);
      const groupMembers = members.get(group) ?? [];
      if (!row) {
        verdict.undecrypted++;
        continue;
      }
      verdict.decrypted++;
      verdict.latenciesMs.push(row.decrypted_at - slotEndMs(slot, slotSeconds));
      const contributors = JSON.parse(row.contributors) as string[];
      const distinct = new Set(contributors);
      verdict.doubled += contributors.length - distinct.size;
      for (const m of groupMembers.filter((member) => !distinct.has(member))) {
        if (stored.get(group)?.has(m)) verdict.lost++;
        else if (refused.get(group)?.has(m)) verdict.refused++;
        else verdict.notAcknowledged++;
      }
      const readings = (JSON.parse(row.readings) as string[]).map(BigInt);
      const complete = groupMembers.every((m) => distinct.has(m)) && distinct.size === groupMembers.length;
      const same = readings.length === sums.length && readings.every((r, i) => r === sums[i]);
      if (complete && same && contributors.length === distinct.size) verdict.correct++;
      else if (!same) verdict.wrongTotals++;
    }
  }
  verdict.latenciesMs.sort((a, b) => a - b);
  return verdict;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
