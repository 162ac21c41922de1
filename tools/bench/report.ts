/** The printed table, the target verdicts and the JSON document of one benchmark run. */
import type { BenchRow, BenchTarget, RowSelector } from './types.ts';

export interface TargetVerdict {
  name: string;
  bits: number;
  ratio: number | null;
  maxRatio: number;
  verdict: 'PASS' | 'MISS' | 'NOT MEASURED';
}

function matches(row: BenchRow, selector: RowSelector, bits: number): boolean {
  return (
    row.bits === bits &&
    row.impl === selector.impl &&
    row.engine === selector.engine &&
    row.op === selector.op &&
    (row.variant ?? '') === (selector.variant ?? '')
  );
}

export function findRow(rows: BenchRow[], selector: RowSelector, bits: number): BenchRow | undefined {
  return rows.find((row) => matches(row, selector, bits));
}

export function judgeTargets(rows: BenchRow[], targets: BenchTarget[]): TargetVerdict[] {
  return targets.map((target) => {
    const numerator = findRow(rows, target.numerator, target.bits);
    const denominator = findRow(rows, target.denominator, target.bits);
    const metric = target.metric ?? 'ms';
    if (!numerator?.[metric] || !denominator?.[metric]) {
      return { name: target.name, bits: target.bits, ratio: null, maxRatio: target.maxRatio, verdict: 'NOT MEASURED' };
    }
    const ratio = numerator[metric] / denominator[metric];
    return { name: target.name, bits: target.bits, ratio, maxRatio: target.maxRatio, verdict: ratio <= target.maxRatio ? 'PASS' : 'MISS' };
  });
}

export function formatDuration(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatRatio(ratio: number): string {
  return ratio < 0.01 ? ratio.toExponential(2) : ratio.toFixed(2);
}

function label(selector: Omit<RowSelector, 'op'>): string {
  return `${selector.impl}${selector.variant ? ` (${selector.variant})` : ''}`;
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
}

/** One table per key size: op, implementation, engine, time, computrons, ratio against the row's peer. */
export function formatTable(rows: BenchRow[]): string {
  const lines: string[] = [];
  const header = ['op', 'implementation', 'engine', 'time/op', 'computrons/op', 'ratio', 'peer'];
  for (const bits of [...new Set(rows.map((row) => row.bits))]) {
    const body = rows
      .filter((row) => row.bits === bits)
      .map((row) => {
        const peer = row.peer && findRow(rows, { ...row.peer, op: row.peer.op ?? row.op }, bits);
        return [
          row.op,
          label(row),
          row.engine,
          row.slots === undefined
            ? formatDuration(row.ms)
            : `${row.slots.toLocaleString('en-US')} slots${row.bytes === undefined ? '' : `, ${row.bytes.toLocaleString('en-US')} B`}`,
          row.computrons === undefined ? '' : row.computrons.toLocaleString('en-US'),
          peer && row.slots === undefined ? `${formatRatio(row.ms / peer.ms)}x` : '',
          peer ? `${label(peer)} ${peer.engine}` : '',
        ];
      });
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
    lines.push(`n = ${bits} bits`, pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  '));
    let previousOp = '';
    for (const cells of body) {
      lines.push(pad(cells[0] === previousOp ? ['', ...cells.slice(1)] : cells, widths));
      previousOp = cells[0];
    }
    lines.push('');
  }
  return lines.join('\n');
}

export function formatVerdicts(verdicts: TargetVerdict[]): string {
  return verdicts
    .map((v) => {
      const measured = v.ratio === null ? 'not measured' : `${formatRatio(v.ratio)} (limit ${formatRatio(v.maxRatio)})`;
      return `${v.verdict.padEnd(4)}  [${v.bits}] ${v.name}: ${measured}`;
    })
    .join('\n');
}

export function toJson(rows: BenchRow[], verdicts: TargetVerdict[], machine: Record<string, unknown>) {
  return {
    machine,
    results: rows.map(({ peer: _peer, ...row }) => row),
    targets: verdicts,
  };
}
