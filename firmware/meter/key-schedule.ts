/**
 * Which public key encrypts which slot. The provisioned key holds from slot 0; each verified
 * key announcement (firmware/keys/announcement.ts) adds a key from its effective slot on. The key
 * of a slot is a function of the slot number alone, so a slot closed late (after a reboot, or
 * a report still waiting in the outbox) is encrypted under the key of its own slot, never the
 * newer one, and no aggregate can mix keys.
 *
 * Storage "ky.s": {"base":"<provisioned keyId>","keys":[{"effectiveSlot","keyId"}]}, the announced
 * keys, oldest first (at most MAX_ANNOUNCED: one rotation at a time), and "ky.<i>" the i-th one's
 * public key JSON: a short-exponent key's JSON (1.6 KB at 2048 bits, 2.4 KB at 3072) is too large
 * for two in one value of at most 4000 bytes. A record of the earlier form, with each publicKey
 * inline, still loads. A record written for another provisioned key (the meter was
 * re-provisioned) is ignored.
 */
import { fail, MeterveilError } from '../errors.ts';
import { MIN_KEY_BITS } from '../config/schema.ts';
import { verifyKeyAnnouncement, type Cosigners } from '../keys/announcement.ts';
import { parseJsonObject, publicKeyFromJson, publicKeyToJson } from '../paillier/codec.ts';
import { SlotPacking } from '../paillier/packing.ts';
import type { PaillierPublicKey } from '../paillier/public-key.ts';
import type { Storage } from '../platform/port.ts';
import { utf8Decode, utf8Encode } from '../text.ts';

const STORAGE_KEY = 'ky.s';
const keyEntry = (index: number) => `ky.${index}`;
/** Keys kept besides the provisioned one: the one in use and the one announced to follow it. */
const MAX_ANNOUNCED = 2;

export interface ScheduledKey {
  effectiveSlot: number;
  publicKey: PaillierPublicKey;
}

/** What the outcome of an announcement was; refusals throw a MeterveilError with the reason. */
export type AnnouncementOutcome = { kind: 'accepted'; key: ScheduledKey } | { kind: 'known'; keyId: string };

export class KeySchedule {
  private readonly keys: ScheduledKey[];

  constructor(
    private readonly storage: Storage,
    private readonly provisioned: PaillierPublicKey,
    private readonly signingKey: Uint8Array | undefined,
    private readonly packing: SlotPacking,
    log: (line: string) => void,
    /** Threshold deployments: announcements need these custodians' cosignatures too. */
    private readonly cosigners?: Cosigners,
  ) {
    this.keys = [{ effectiveSlot: 0, publicKey: provisioned }];
    try {
      this.keys.push(...this.load());
    } catch (error) {
      // A damaged record: keep the provisioned key and wait for the retained announcement again.
      log(`stored key schedule ignored: ${(error as Error).message}`);
    }
  }

  /** The key every report for `slot` is encrypted under. */
  keyFor(slot: number): PaillierPublicKey {
    let key = this.keys[0].publicKey;
    for (const k of this.keys) if (k.effectiveSlot <= slot) key = k.publicKey;
    return key;
  }

  /** The newest key known, in use or announced: the next announcement must replace this one. */
  get latest(): ScheduledKey {
    return this.keys[this.keys.length - 1];
  }

  /** Keys announced for a slot after `slot`, oldest first. */
  upcoming(slot: number): ScheduledKey[] {
    return this.keys.filter((k) => k.effectiveSlot > slot);
  }

  /**
   * Verifies an announcement against the signing key and, when valid, stores the new key before
   * returning. The retained announcement arrives again after every reconnect: a key already in
   * the schedule changes nothing. Refusals: no-signing-key, announcement-pending (one rotation at
   * a time), the verifier's reasons (bad-signature, cosignatures-below-threshold, wrong-previous-key,
   * stale-announcement, malformed-announcement), unusable-key.
   */
  offer(payload: Uint8Array, currentSlot: number): AnnouncementOutcome {
    const text = utf8Decode(payload);
    const keyId = announcedKeyId(text);
    if (keyId !== undefined && this.keys.some((k) => k.publicKey.keyId === keyId)) return { kind: 'known', keyId };
    if (!this.signingKey) fail('no-signing-key', 'this meter was provisioned without a signing key: it keeps its key');
    const a = verifyKeyAnnouncement(text, this.signingKey, { currentKeyId: this.latest.publicKey.keyId, currentSlot }, this.cosigners);
    const pending = this.upcoming(currentSlot);
    if (pending.length > 0)
      fail(
        'announcement-pending',
        `key ${pending[0].publicKey.keyId} takes over at slot ${pending[0].effectiveSlot}; announce the next one after that`,
      );
    if (a.publicKey.bits < MIN_KEY_BITS)
      fail('unusable-key', `the new key has ${a.publicKey.bits} bits; at least ${MIN_KEY_BITS} are required`);
    try {
      const { maxReading, maxSummands, readings } = this.packing;
      SlotPacking.forBounds({ maxReading, maxSummands, readings, modulusBits: a.publicKey.bits });
    } catch (error) {
      fail('unusable-key', `the meter's packing does not fit the new key: ${(error as Error).message}`);
    }
    const key: ScheduledKey = { effectiveSlot: a.effectiveSlot, publicKey: a.publicKey };
    this.keys.push(key);
    // Keys whose last slot has passed go once the record is full; the provisioned key stays the base.
    while (this.keys.length > MAX_ANNOUNCED + 1 && this.keys[2].effectiveSlot <= currentSlot) this.keys.splice(1, 1);
    this.save();
    return { kind: 'accepted', key };
  }

  private save(): void {
    const announced = this.keys.slice(1);
    // The keys first: a record never names a key whose JSON is not stored yet.
    announced.forEach((k, i) => this.storage.set(keyEntry(i), utf8Encode(JSON.stringify(publicKeyToJson(k.publicKey)))));
    const record = {
      base: this.provisioned.keyId,
      keys: announced.map((k) => ({ effectiveSlot: k.effectiveSlot, keyId: k.publicKey.keyId })),
    };
    this.storage.set(STORAGE_KEY, utf8Encode(JSON.stringify(record)));
    for (let i = announced.length; i < MAX_ANNOUNCED; i++) this.storage.delete(keyEntry(i));
  }

  private load(): ScheduledKey[] {
    const bytes = this.storage.get(STORAGE_KEY);
    if (!bytes) return [];
    const record = parseJsonObject(utf8Decode(bytes), 'key schedule');
    if (record.base !== this.provisioned.keyId)
      fail('schedule-mismatch', `written for key ${String(record.base)}, provisioned ${this.provisioned.keyId}`);
    if (!Array.isArray(record.keys) || record.keys.length > MAX_ANNOUNCED) fail('malformed-schedule', 'keys must be a short array');
    let previous = 0;
    return record.keys.map((k: { effectiveSlot?: unknown; publicKey?: unknown; keyId?: unknown }, i: number) => {
      const slot = k.effectiveSlot;
      if (typeof slot !== 'number' || !Number.isInteger(slot) || slot <= previous || slot > 0xffffffff)
        fail('malformed-schedule', 'effective slots must increase');
      previous = slot;
      if (k.publicKey !== undefined) return { effectiveSlot: slot, publicKey: publicKeyFromJson(k.publicKey) };
      const stored = this.storage.get(keyEntry(i));
      if (!stored) fail('malformed-schedule', `the key of entry ${i} is missing`);
      const publicKey = publicKeyFromJson(utf8Decode(stored));
      if (publicKey.keyId !== k.keyId)
        fail('malformed-schedule', `entry ${i} holds key ${publicKey.keyId}, the record names ${String(k.keyId)}`);
      return { effectiveSlot: slot, publicKey };
    });
  }
}

/** The keyId an announcement claims, read without trusting it (it only lets a repeat be ignored). */
function announcedKeyId(text: string): string | undefined {
  try {
    const keyId = parseJsonObject(text, 'key announcement').keyId;
    return typeof keyId === 'string' ? keyId : undefined;
  } catch (error) {
    if (error instanceof MeterveilError) return undefined;
    throw error;
  }
}
