/**
 * The meter's health status (firmware/protocol/meter-status.ts) from its stats: what the operator
 * needs to see that a meter is alive and keeping up, chosen so that none of it depends on what the
 * household consumes. Sample, slot and report counts are left out, though they do not depend on
 * consumption either, to keep the status small; energy, power and anything per slot are never in it.
 */
import type { MeterStatus } from '../protocol/meter-status.ts';
import { FIRMWARE_VERSION } from '../version.ts';

/** What the status takes from the meter's stats (MeterStats, firmware/meter/meter.ts). */
export interface HealthStats {
  keyId: string;
  poolSize: number;
  outboxSize: number;
  outboxDropped: number;
  acksRejected: Partial<Record<string, number>>;
  storageFull: number;
  sensorMisses: number;
}

export function meterStatusOf(
  meterId: string,
  stats: HealthStats,
  nowMs: number,
  startedMs: number,
  freeMemory: number | undefined,
): MeterStatus {
  let acksRejected = 0;
  for (const reason in stats.acksRejected) acksRejected += stats.acksRejected[reason] ?? 0;
  return {
    meterId,
    firmware: FIRMWARE_VERSION,
    keyId: stats.keyId,
    at: Math.floor(nowMs / 1000),
    uptime: Math.max(0, Math.floor((nowMs - startedMs) / 1000)),
    pool: stats.poolSize,
    outbox: stats.outboxSize,
    dropped: stats.outboxDropped,
    acksRejected,
    storageFull: stats.storageFull,
    sensorMisses: stats.sensorMisses,
    freeMemory: freeMemory !== undefined && Number.isSafeInteger(freeMemory) && freeMemory >= 0 ? freeMemory : null,
  };
}
