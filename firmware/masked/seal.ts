/** A masked meter's ciphertext for one slot: its packed readings plus its mask, modulo 2^W. */
import { bigIntToBytes } from '../bytes.ts';
import type { SlotPacking } from '../paillier/packing.ts';
import type { Mac } from '../protocol/mac.ts';
import { meterMask } from './mask.ts';
import { addMod, maskedParamsOf } from './params.ts';

export function maskReadings(
  readings: readonly bigint[],
  packing: SlotPacking,
  maskKeys: readonly Uint8Array[],
  keyId: string,
  slot: number,
  mac: Mac,
): Uint8Array {
  const params = maskedParamsOf(packing);
  const packed = bigIntToBytes(packing.pack(readings), params.bytes);
  return addMod(packed, meterMask(maskKeys, keyId, slot, params, mac), params);
}
