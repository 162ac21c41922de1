/**
 * The persistent, bounded outbox: every report is stored before it is first published and stays
 * until every group has acknowledged it. When full, the oldest report is dropped (the newest are
 * worth more to a utility balancing its grid) and the cumulative drop count goes into the next
 * report's header, so the loss is visible upstream. Sequence numbers live here too, so they keep
 * increasing across reboots.
 *
 * The reports themselves stay in storage: RAM holds each held report's slot and sequence number,
 * and a report's bytes only while it is being published. A storage that refuses a write
 * (`storage-full`) costs the oldest report, counted as any drop, never the meter.
 *
 * Storage layout (keys fit the ESP32's 15-character NVS limit):
 *   "ob.m"      24 bytes: head, tail, dropped, nextSeq, lastSlot + 1, ring (u32 big-endian each;
 *               lastSlot + 1 = 0 means no report yet)
 *   "ob.<r>"    slot (u32), seq (u32), then the report message, for the entry of index i
 *               (head <= i < tail) at r = i mod ring
 * The key names form a fixed ring of `ring` (twice the capacity when the outbox last was empty:
 * acknowledgements out of order leave gaps), so the storage sees a bounded set of names however
 * many reports pass: the lin simulator's preference module keeps every name it has seen. A report
 * still held when the ring comes round to its name is dropped, counted as any drop.
 */
import { concatBytes } from '../bytes.ts';
import { fail, MeterveilError } from '../errors.ts';
import type { Storage } from '../platform/port.ts';
import { storedBytes } from '../platform/storage-budget.ts';

const META_KEY = 'ob.m';
const META_BYTES = 24;
const ENTRY_HEADER_BYTES = 8;
const U32_LIMIT = 0x1_0000_0000;
export const MAX_OUTBOX_CAPACITY = 10_000;

/**
 * Storage kept for the meter's other records: the provisioned configuration (up to 4000 bytes),
 * the key schedule (three keys, and room to rewrite it: NVS writes before it erases), the
 * checkpoint and the outbox counters. A key announcement arriving with a full outbox still fits.
 */
export const RESERVED_STORAGE_BYTES = 8192;

/** A report's bytes at this modulus size, with room for the header fields and the MAC, and 32 per custodian's authenticator. */
export function reportBytesFor(modulusBits: number, custodians = 0): number {
  return 2 * Math.ceil(modulusBits / 8) + 128 + 32 * custodians;
}

/** The configured capacity, else the reports the storage holds beside the meter's other records. */
export function outboxCapacityFor(configured: number | undefined, storage: Storage, modulusBits: number, custodians = 0): number {
  return configured ?? defaultOutboxCapacity(storage.capacityBytes, modulusBits, custodians);
}

/** What one held report costs of the storage. */
export function storedReportBytes(modulusBits: number, custodians = 0): number {
  return storedBytes(reportBytesFor(modulusBits, custodians) + ENTRY_HEADER_BYTES);
}

/** The reports a storage of this capacity holds beside the meter's other records (at least 1). */
export function defaultOutboxCapacity(capacityBytes: number, modulusBits: number, custodians = 0): number {
  const perReport = storedReportBytes(modulusBits, custodians);
  const fits = Math.floor((capacityBytes - RESERVED_STORAGE_BYTES) / perReport);
  return Math.min(Math.max(fits, 1), MAX_OUTBOX_CAPACITY);
}

export interface OutboxEntry {
  index: number;
  slot: number;
  seq: number;
}

function u32(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
}

function isStorageFull(error: unknown): boolean {
  return error instanceof MeterveilError && error.reason === 'storage-full';
}

export class Outbox {
  private head = 0;
  private tail = 0;
  private droppedCount = 0;
  private seq = 0;
  /** One more than the newest slot ever reported; 0 before the first report. */
  private slotMark = 0;
  /** How many key names the entries cycle through. */
  private ring: number;
  private readonly held: OutboxEntry[] = [];

  constructor(
    private readonly storage: Storage,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) fail('bad-outbox-capacity', 'outbox capacity must be a positive integer');
    this.ring = 2 * capacity;
    const meta = storage.get(META_KEY);
    if (meta && meta.length === META_BYTES) {
      this.head = readU32(meta, 0);
      this.tail = readU32(meta, 4);
      this.droppedCount = readU32(meta, 8);
      this.seq = readU32(meta, 12);
      this.slotMark = readU32(meta, 16);
      this.ring = readU32(meta, 20) || 2 * capacity;
    }
    for (let i = Math.max(this.head, this.tail - this.ring); i < this.tail; i++) {
      const stored = storage.get(this.entryKey(i));
      if (!stored || stored.length < ENTRY_HEADER_BYTES || readU32(stored, 4) !== this.seqOf(i)) continue;
      this.held.push({ index: i, slot: readU32(stored, 0), seq: readU32(stored, 4) });
    }
  }

  get size(): number {
    return this.held.length;
  }

  /** Reports dropped since provisioning (the value the next report carries). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Held entries, oldest first: the replay order. */
  entries(): readonly OutboxEntry[] {
    return this.held;
  }

  /** The report's bytes, read from storage; undefined once it has left the outbox. */
  message(entry: OutboxEntry): Uint8Array | undefined {
    if (!this.held.includes(entry)) return undefined;
    const stored = this.storage.get(this.entryKey(entry.index));
    if (!stored || stored.length < ENTRY_HEADER_BYTES || readU32(stored, 4) !== entry.seq) return undefined;
    return stored.subarray(ENTRY_HEADER_BYTES);
  }

  /** True when a report for this slot (or a later one) was ever stored: a slot is reported once. */
  hasReported(slot: number): boolean {
    return slot < this.slotMark;
  }

  find(slot: number, seq: number): OutboxEntry | undefined {
    return this.held.find((e) => e.seq === seq && e.slot === slot);
  }

  /**
   * Stores a new report. `build(seq, dropped)` encodes it with the sequence number it gets and
   * the drop count including any drop this push causes; it is called again when the storage
   * turned the report away and a drop made room. Returns the entry, or undefined when even an
   * empty outbox left no room for it: then the report itself is counted as dropped.
   */
  /** The sequence number and drop count a report pushed now would carry, unless the storage then refuses it. */
  nextNumbers(): { seq: number; dropped: number } {
    const ring = this.held.length === 0 ? 2 * this.capacity : this.ring;
    let drops = 0;
    const held = this.held;
    while (held.length - drops >= Math.min(this.capacity, ring) || (held.length - drops > 0 && this.tail - held[drops].index >= ring))
      drops++;
    return { seq: this.seq, dropped: Math.min(this.droppedCount + drops, U32_LIMIT - 1) };
  }

  push(slot: number, build: (seq: number, dropped: number) => Uint8Array): OutboxEntry | undefined {
    if (this.seq + 1 >= U32_LIMIT) fail('seq-exhausted', 'sequence numbers are used up; re-provision the meter');
    if (this.held.length === 0) this.ring = 2 * this.capacity;
    // The new entry's key name is free once no held entry sits a whole ring behind it.
    while (this.held.length >= Math.min(this.capacity, this.ring) || (this.held.length > 0 && this.tail - this.held[0].index >= this.ring))
      this.dropOldest();
    const seq = this.seq;
    const index = this.tail;
    this.tail += 1;
    this.seq += 1;
    this.slotMark = Math.max(this.slotMark, slot + 1);
    let stored = false;
    for (;;) {
      try {
        // Entry first, then the counters: a reboot in between loses an unpublished report, never reuses a seq for a published one.
        this.storage.set(this.entryKey(index), concatBytes(u32(slot), u32(seq), build(seq, this.droppedCount)));
        stored = true;
        break;
      } catch (error) {
        if (!isStorageFull(error)) throw error;
        if (this.held.length === 0) break;
        this.dropOldest();
      }
    }
    if (!stored) this.droppedCount = Math.min(this.droppedCount + 1, U32_LIMIT - 1);
    const entry: OutboxEntry | undefined = stored ? { index, slot, seq } : undefined;
    if (entry) this.held.push(entry);
    this.advanceHead();
    this.writeMeta();
    return entry;
  }

  remove(entry: OutboxEntry): void {
    const at = this.held.indexOf(entry);
    if (at < 0) return;
    this.held.splice(at, 1);
    this.storage.delete(this.entryKey(entry.index));
    this.advanceHead();
    this.writeMeta();
  }

  private dropOldest(): void {
    const oldest = this.held.shift()!;
    this.storage.delete(this.entryKey(oldest.index));
    this.droppedCount = Math.min(this.droppedCount + 1, U32_LIMIT - 1);
  }

  private advanceHead(): void {
    this.head = this.held.length > 0 ? this.held[0].index : this.tail;
  }

  /** Seq and index advance together, so an index names its seq; a stale entry under a reused name does not match. */
  private seqOf(index: number): number {
    return this.seq - (this.tail - index);
  }

  private writeMeta(): void {
    for (;;) {
      try {
        this.storage.set(
          META_KEY,
          concatBytes(u32(this.head), u32(this.tail), u32(this.droppedCount), u32(this.seq), u32(this.slotMark), u32(this.ring)),
        );
        return;
      } catch (error) {
        // The counters must be written; a report is what can give way for them.
        if (!isStorageFull(error) || this.held.length === 0) throw error;
        this.dropOldest();
        this.advanceHead();
      }
    }
  }

  private entryKey(index: number): string {
    return `ob.${index % this.ring}`;
  }
}
