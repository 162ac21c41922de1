/**
 * Reconnection delays: exponential from min to max, with jitter so that a fleet that lost its
 * broker at the same moment does not come back at the same moment.
 */
export function backoffDelayMs(attempt: number, minMs: number, maxMs: number, jitterByte: number): number {
  // Doubling by multiplication: Espruino's Math.pow, which `**` becomes in ES5, is inexact.
  let exponential = minMs;
  for (let i = 0; i < attempt && exponential < maxMs; i++) exponential *= 2;
  exponential = Math.min(maxMs, exponential);
  // Between half and all of the exponential delay.
  return Math.max(minMs, Math.round(exponential * (0.5 + jitterByte / 510)));
}
