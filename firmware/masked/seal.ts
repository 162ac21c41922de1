/** A masked meter's ciphertext for one slot: its packed readings plus its mask, modulo 2^W. */
import { bigIntToBytes } from '../bytes.ts';
import type { SlotPacking } from '../paillier/packing.ts';
import type { Mac } from '../protocol/mac.ts';
import { meterMask } from './mask.ts';
import { addMod, maskedParamsOf, type MaskedParams } from './params.ts';

/** Packed readings (W bits, big-endian) plus the meter's mask for (key id, slot): no BigInt, so meters without one use it as is. */
export function maskPacked(
  packed: Uint8Array,
  params: MaskedParams,
  maskKeys: readonly Uint8Array[],
  keyId: string,
  slot: number,
  mac: Mac,
): Uint8Array {
  return addMod(packed, meterMask(maskKeys, keyId, slot, params, mac), params);
}

export function maskReadings(
  readings: readonly bigint[],
  packing: SlotPacking,
  maskKeys: readonly Uint8Array[],
  keyId: string,
  slot: number,
  mac: Mac,
): Uint8Array {
  const params = maskedParamsOf(packing);
  return maskPacked(bigIntToBytes(packing.pack(readings), params.bytes), params, maskKeys, keyId, slot, mac);
}
