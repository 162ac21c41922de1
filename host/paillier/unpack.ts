/** Decoding of a decrypted sum of packed plaintexts into per-sub-slot totals. */
import type { SlotPacking } from '../../firmware/paillier/packing.ts';
import type { PaillierPrivateKey } from './private-key.ts';

export function decryptPacked(key: PaillierPrivateKey, packing: SlotPacking, c: bigint): bigint[] {
  return packing.unpack(key.decrypt(c));
}
