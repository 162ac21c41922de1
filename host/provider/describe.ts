/** The log line for a decrypted slot, and its fields: group-level figures only. */
import { slotStartMs } from '../protocol/slots.ts';
import type { Decrypted } from './provider.ts';

const wh = (mwh: bigint) => `${(Number(mwh) / 1000).toFixed(1)} Wh`;

export function describeDecrypted(d: Decrypted, slotSeconds: number): string {
  const time = new Date(slotStartMs(d.slot, slotSeconds)).toISOString().slice(11, 19);
  const base = `slot ${d.slot} ${time} ${d.groupId}: ${d.count}/${d.members} meters, total ${wh(d.total)}`;
  if (d.comparisonHeld) return `${base}, compared with the feeder once the slot's other parts are in`;
  if (d.feeder === undefined) return `${base}, feeder reading not yet in`;
  const sign = d.deviation! >= 0 ? '+' : '';
  return `${base}, feeder ${wh(d.feeder)}, deviation ${sign}${(d.deviation! * 100).toFixed(1)}%${d.alert ? ' ALERT' : ' ok'}`;
}

export function decryptedFields(d: Decrypted) {
  return {
    group: d.groupId,
    slot: d.slot,
    contributors: d.count,
    members: d.members,
    total: d.total.toString(),
    feeder: d.feeder?.toString(),
    deviation: d.deviation,
    alert: d.alert,
  };
}
