/**
 * The per-slot work of the meter once the slot's readings are known and r^n is at hand: pack,
 * encrypt online, frame and authenticate the report (to the aggregators and to each custodian),
 * and store it in the outbox. Kept apart so
 * the benchmark measures exactly what the meter runs.
 */
import type { MeterConfig } from '../config/schema.ts';
import { ciphertextToBytes } from '../paillier/codec.ts';
import type { SlotPacking } from '../paillier/packing.ts';
import type { PaillierPublicKey } from '../paillier/public-key.ts';
import type { Mac } from '../protocol/mac.ts';
import { encodeReport } from '../protocol/report.ts';
import type { SlotReadings } from './energy.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';

export interface SealContext {
  config: MeterConfig;
  /** The key of the slot being sealed (it changes at a key rotation's effective slot). */
  publicKey: PaillierPublicKey;
  packing: SlotPacking;
  mac: Mac;
  /** The meter's key of custodian 1, 2, ...: one authenticator each (empty without custodians). */
  custodianKeys: readonly Uint8Array[];
  outbox: Outbox;
}

export function sealSlotReport(
  { config, publicKey: key, packing, mac, custodianKeys, outbox }: SealContext,
  { slot, readings }: SlotReadings,
  rn: bigint,
): OutboxEntry | undefined {
  const plaintext = packing.pack(readings.map((r) => BigInt(r)));
  const ciphertext = ciphertextToBytes(key, key.encryptWithRn(plaintext, rn));
  return outbox.push(slot, (seq, dropped) =>
    encodeReport(
      { keyId: key.keyId, meterId: config.meterId, slot, seq, dropped, packed: readings.length, ciphertext },
      config.macKey,
      mac,
      custodianKeys,
    ),
  );
}
