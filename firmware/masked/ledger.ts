/**
 * A masked meter's promise never to send two different values under one mask: before a report
 * leaves, the slot and its ciphertext are written to storage, per key id. Slots only go forward;
 * the one slot sent last may be sent again with the same bytes (an outbox resend), and anything
 * else for it or an earlier slot is refused. A reboot inside a reported slot therefore cannot
 * re-measure that slot: the difference of two values under one mask is the difference of the
 * readings, which the aggregator would learn.
 */
import { equalBytes, hexToBytes } from '../bytes.ts';
import { fail } from '../errors.ts';
import type { Storage } from '../platform/port.ts';

/** NVS keys are at most 15 characters: "m" and the key id's first 14 hex digits; the record holds the whole id. */
const keyOf = (keyId: string) => `m${keyId.slice(0, 14)}`;
const ID_BYTES = 8;
const HEAD_BYTES = ID_BYTES + 4;

export class MaskLedger {
  constructor(private readonly storage: Storage) {}

  /** The record under the key id's storage key: the key id, the last slot sealed, its ciphertext. */
  private record(keyId: string): { slot: number; ciphertext: Uint8Array } | undefined {
    const held = this.storage.get(keyOf(keyId));
    if (!held) return undefined;
    // Two key ids alike in their first 14 digits share a storage key: fail closed.
    if (!equalBytes(held.subarray(0, ID_BYTES), hexToBytes(keyId, 'key id')))
      fail('mask-already-used', `the ledger entry for key ${keyId} holds another key id; refusing rather than forgetting its slots`);
    const slot = ((held[ID_BYTES] << 24) >>> 0) + (held[ID_BYTES + 1] << 16) + (held[ID_BYTES + 2] << 8) + held[ID_BYTES + 3];
    return { slot, ciphertext: held.subarray(HEAD_BYTES) };
  }

  /** The last slot sealed under `keyId`, or undefined. */
  lastSlot(keyId: string): number | undefined {
    return this.record(keyId)?.slot;
  }

  /**
   * Records that `ciphertext` goes out under (keyId, slot), durably, before it is sent; refuses
   * (`mask-already-used`) a second value under a mask already used, and a slot before the last.
   */
  claim(keyId: string, slot: number, ciphertext: Uint8Array): void {
    const id = hexToBytes(keyId, 'key id');
    if (id.length !== ID_BYTES) fail('malformed-key-id', 'key id must be 16 lowercase hex characters');
    const held = this.record(keyId);
    if (held && slot <= held.slot) {
      if (slot === held.slot && equalBytes(held.ciphertext, ciphertext)) return;
      fail(
        'mask-already-used',
        slot === held.slot
          ? `slot ${slot} under key ${keyId} was sent with another value; a second one would reveal the difference`
          : `slot ${slot} under key ${keyId} is before the last one sealed (${held.slot}); its mask may have been used`,
      );
    }
    const record = new Uint8Array(HEAD_BYTES + ciphertext.length);
    record.set(id, 0);
    record[ID_BYTES] = slot >>> 24;
    record[ID_BYTES + 1] = (slot >>> 16) & 255;
    record[ID_BYTES + 2] = (slot >>> 8) & 255;
    record[ID_BYTES + 3] = slot & 255;
    record.set(ciphertext, HEAD_BYTES);
    this.storage.set(keyOf(keyId), record);
  }
}
