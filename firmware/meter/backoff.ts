/**
 * Reconnection delays: exponential from min to max, with jitter so that a fleet that lost its
 * broker at the same moment does not come back at the same moment.
 */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number, jitterByte: number): number {
  const exponential = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  // Between half and all of the exponential delay.
  return Math.max(minMs, Math.round(exponential * (0.5 + jitterByte / 510)));
}
