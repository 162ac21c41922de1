/**
 * One meter's report as the firmware makes it: the slot's readings packed into one plaintext,
 * encrypted with a precomputed r^n (or hs^a) that the caller takes from a pool and never uses
 * again, then authenticated with the meter's MAC key and, in threshold mode, one authenticator
 * per custodian (firmware/protocol/report.ts). The load generator and the Node test meter both
 * build their reports here.
 */
import { ciphertextToBytes } from '../../firmware/paillier/codec.ts';
import type { SlotPacking } from '../../firmware/paillier/packing.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { encodeReport, type Report } from '../../firmware/protocol/report.ts';

export interface ReportingMeter {
  meterId: string;
  publicKey: PaillierPublicKey;
  packing: SlotPacking;
  macKey: Uint8Array;
  custodianKeys?: readonly Uint8Array[];
}

export function encryptedReport(
  meter: ReportingMeter,
  fields: { slot: number; seq: number; readings: bigint[]; rn: bigint },
  overrides: Partial<Report> = {},
  macKey = meter.macKey,
): Uint8Array {
  const { publicKey, packing } = meter;
  const c = publicKey.encryptWithRn(packing.pack(fields.readings), fields.rn);
  const report: Report = {
    keyId: publicKey.keyId,
    meterId: meter.meterId,
    slot: fields.slot,
    seq: fields.seq,
    dropped: 0,
    packed: packing.readings,
    ciphertext: ciphertextToBytes(publicKey, c),
    ...overrides,
  };
  return encodeReport(report, macKey, hmacSha256, meter.custodianKeys);
}
