/**
 * Exact linear algebra over the rationals on contributor-set indicator vectors. Whoever knows the
 * totals of several aggregates of one slot knows every linear combination of them: a meter's
 * reading is exposed exactly when its unit vector lies in the span of the indicator vectors.
 * Rows are kept as BigInt integer vectors (fraction-free elimination, each row divided by the gcd
 * of its entries), which is the same row space as rational elimination without rounding.
 */
export interface SpanReport {
  /** Meters whose single reading is a linear combination of the aggregates' totals. */
  exposedMeters: string[];
  /** Smallest number of meters some combination in the reduced basis involves. */
  smallestSupport: number;
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function normalise(row: bigint[]): void {
  let g = 0n;
  for (const v of row) if (v !== 0n) g = gcd(g, v);
  if (g > 1n) for (let i = 0; i < row.length; i++) row[i] /= g;
}

/** Reduced row echelon form (up to a positive or negative scale per row) of the given rows. */
export function reducedRows(rows: bigint[][], columns: number): bigint[][] {
  const m = rows.map((r) => r.slice());
  let pivotRow = 0;
  for (let col = 0; col < columns && pivotRow < m.length; col++) {
    const found = m.findIndex((r, i) => i >= pivotRow && r[col] !== 0n);
    if (found < 0) continue;
    [m[pivotRow], m[found]] = [m[found], m[pivotRow]];
    const pivot = m[pivotRow];
    for (let i = 0; i < m.length; i++) {
      if (i === pivotRow || m[i][col] === 0n) continue;
      const factor = m[i][col];
      const scale = pivot[col];
      for (let j = 0; j < columns; j++) m[i][j] = m[i][j] * scale - pivot[j] * factor;
      normalise(m[i]);
    }
    pivotRow++;
  }
  return m.slice(0, pivotRow);
}

export function analyseSpan(sets: readonly (readonly string[])[]): SpanReport {
  const meters = [...new Set(sets.flat())].sort();
  const column = new Map(meters.map((id, i) => [id, i]));
  const rows = sets.map((set) => {
    const row = new Array<bigint>(meters.length).fill(0n);
    for (const id of set) row[column.get(id)!] = 1n;
    return row;
  });
  const basis = reducedRows(rows, meters.length);
  const exposed: string[] = [];
  let smallestSupport = Infinity;
  for (const row of basis) {
    const support = row.reduce((n, v) => (v === 0n ? n : n + 1), 0);
    smallestSupport = Math.min(smallestSupport, support);
    // In reduced form, e_j is in the span exactly when some basis row is a multiple of e_j.
    if (support === 1) exposed.push(meters[row.findIndex((v) => v !== 0n)]);
  }
  return { exposedMeters: exposed.sort(), smallestSupport };
}
