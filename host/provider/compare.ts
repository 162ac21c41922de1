/**
 * The feeder meter is the measuring rod: the sum of a group's decrypted readings should match what
 * flowed through its feeder. A relative deviation beyond the tolerance means losses, theft, a
 * faulty or lying meter, or meters that did not report.
 */
export interface Comparison {
  /** (feeder - total) / feeder; positive when the meters report less than the feeder measured. */
  deviation: number;
  alert: boolean;
}

export function compareWithFeeder(total: bigint, feeder: bigint, tolerance: number): Comparison {
  if (feeder === 0n) {
    const deviation = total === 0n ? 0 : -1;
    return { deviation, alert: total !== 0n };
  }
  // Scaled integer division keeps the ratio exact to 1e-9 whatever the magnitudes.
  const deviation = Number(((feeder - total) * 1_000_000_000n) / feeder) / 1e9;
  return { deviation, alert: Math.abs(deviation) > tolerance };
}
