/**
 * The peer of the aggregator's ingest: one raw homomorphic addition (Paillier: a product mod n^2)
 * in this process. Timed in CPU time (user + system), the unit the aggregator's CPU per report is
 * read in, so that a neighbour taking the core away lengthens neither; a wall-clock peer moved by
 * 2x under load, and the ratio with it.
 */

/** Milliseconds of CPU per addition, one sample per round over all `values` from `zero` on. */
export function rawAdditionSamples(
  combine: (a: bigint, b: bigint) => bigint,
  zero: bigint,
  values: readonly bigint[],
  rounds: number,
): number[] {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let acc = zero;
    const start = process.cpuUsage();
    for (const c of values) acc = combine(acc, c);
    const used = process.cpuUsage(start);
    samples.push((used.user + used.system) / 1000 / values.length);
  }
  return samples;
}
