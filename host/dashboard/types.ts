/** The shapes of the API answers the page reads (host/provider/http-api.ts). */
export interface Group {
  id: string;
  members: string[];
  feeder: string;
  k: number;
}

/** One slot of a group: counts and group totals only. */
export interface SlotRow {
  slot: number;
  start: string;
  contributors: number;
  total: string;
  feeder: string | null;
  deviation: number | null;
  status: 'ok' | 'alert' | 'awaiting-feeder';
}

export interface Series {
  groupId: string;
  slotSeconds: number;
  series: SlotRow[];
}

export interface Health {
  status: string;
  keyId: string;
  decryption: 'single' | 'threshold';
  broker: 'connected' | 'disconnected';
  groups: number;
  decrypted: number;
  waiting: number;
  suppressed: number;
  lastSlot: number | null;
}

export interface AggregatorCounts {
  groupId: string;
  accepted: number | null;
  openSlots: number[] | null;
  rejections: Record<string, number> | null;
  suppressed: Record<string, number> | null;
  receivedAt: string | null;
}

export interface Refusal {
  groupId: string | null;
  slot: number | null;
  reason: string;
}

export interface Reservation {
  groupId: string;
  slot: number;
  keyId: string;
  state: 'waiting' | 'refused';
  attempts: number;
  reason: string | null;
}

export interface Alert {
  groupId: string;
  slot: number;
  kind: string;
  deviation: number | null;
  missing: number;
  start: string;
}

/** A meter's health status; every field null before one came. */
export interface MeterHealth {
  receivedAt: string | null;
  dropped: number | null;
  acksRejected: number | null;
  storageFull: number | null;
  sensorMisses: number | null;
}
