/**
 * Timing by medians over interleaved samples: every candidate takes one sample per round, in a
 * rotating order, so a noisy neighbour on a shared machine slows all candidates alike.
 */

/** Runs `batch` operations and returns the elapsed milliseconds for the whole batch. */
export type Sampler = (batch: number) => Promise<number>;

export interface Candidate<Key> {
  key: Key;
  sample: Sampler;
  /** Operations per sample; chosen by calibrate() when absent. */
  batch?: number;
}

export interface Measured<Key> {
  key: Key;
  msPerOp: number;
  samples: number;
  batch: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Operations per sample so that one sample lasts about `sampleMs` (timer resolution, call overhead). */
export async function calibrate(sample: Sampler, sampleMs: number): Promise<number> {
  let batch = 1;
  for (;;) {
    const elapsed = await sample(batch);
    if (elapsed >= sampleMs / 4 || batch >= 1 << 20) {
      return Math.max(1, Math.round((batch * sampleMs) / Math.max(elapsed, 1e-3)));
    }
    batch *= 4;
  }
}

export async function measureInterleaved<Key>(candidates: Candidate<Key>[], rounds: number, sampleMs = 30): Promise<Measured<Key>[]> {
  const batches: number[] = [];
  for (const candidate of candidates) batches.push(candidate.batch ?? (await calibrate(candidate.sample, sampleMs)));
  const perOp: number[][] = candidates.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < candidates.length; i++) {
      const index = (i + round) % candidates.length;
      perOp[index].push((await candidates[index].sample(batches[index])) / batches[index]);
    }
  }
  return candidates.map((candidate, i) => ({ key: candidate.key, msPerOp: median(perOp[i]), samples: rounds, batch: batches[i] }));
}
