/**
 * The persistent, bounded outbox: every report is stored before it is first published and stays
 * until every group has acknowledged it. When full, the oldest report is dropped (the newest are
 * worth more to a utility balancing its grid) and the cumulative drop count goes into the next
 * report's header, so the loss is visible upstream. Sequence numbers live here too, so they keep
 * increasing across reboots.
 *
 * Storage layout (keys fit the ESP32's 15-character NVS limit):
 *   "ob.m"      20 bytes: head, tail, dropped, nextSeq, lastSlot + 1 (u32 big-endian each;
 *               lastSlot + 1 = 0 means no report yet)
 *   "ob.<i>"    slot (u32), seq (u32), then the report message, for head <= i < tail
 */
import { concatBytes } from '../bytes.ts';
import { fail } from '../errors.ts';
import type { Storage } from '../platform/port.ts';

const META_KEY = 'ob.m';
const U32_LIMIT = 0x1_0000_0000;

export interface OutboxEntry {
  index: number;
  slot: number;
  seq: number;
  message: Uint8Array;
}

function u32(value: number): Uint8Array {
  return Uint8Array.of(value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255);
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
}

export class Outbox {
  private head = 0;
  private tail = 0;
  private droppedCount = 0;
  private seq = 0;
  /** One more than the newest slot ever reported; 0 before the first report. */
  private slotMark = 0;
  private readonly held: OutboxEntry[] = [];

  constructor(
    private readonly storage: Storage,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) fail('bad-outbox-capacity', 'outbox capacity must be a positive integer');
    const meta = storage.get(META_KEY);
    if (meta && meta.length === 20) {
      this.head = readU32(meta, 0);
      this.tail = readU32(meta, 4);
      this.droppedCount = readU32(meta, 8);
      this.seq = readU32(meta, 12);
      this.slotMark = readU32(meta, 16);
    }
    for (let i = this.head; i < this.tail; i++) {
      const stored = storage.get(entryKey(i));
      if (!stored || stored.length < 8) continue;
      this.held.push({ index: i, slot: readU32(stored, 0), seq: readU32(stored, 4), message: stored.subarray(8) });
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

  /** True when a report for this slot (or a later one) was ever stored: a slot is reported once. */
  hasReported(slot: number): boolean {
    return slot < this.slotMark;
  }

  find(slot: number, seq: number): OutboxEntry | undefined {
    return this.held.find((e) => e.seq === seq && e.slot === slot);
  }

  /**
   * Stores a new report. `build(seq, dropped)` encodes it with the sequence number it gets and
   * the drop count including any drop this push causes.
   */
  push(slot: number, build: (seq: number, dropped: number) => Uint8Array): OutboxEntry {
    if (this.seq + 1 >= U32_LIMIT) fail('seq-exhausted', 'sequence numbers are used up; re-provision the meter');
    while (this.held.length >= this.capacity) {
      const oldest = this.held.shift()!;
      this.storage.delete(entryKey(oldest.index));
      this.droppedCount = Math.min(this.droppedCount + 1, U32_LIMIT - 1);
    }
    const seq = this.seq;
    const message = build(seq, this.droppedCount);
    const entry: OutboxEntry = { index: this.tail, slot, seq, message };
    // Entry first, then the counters: a reboot in between loses an unpublished report, never reuses a seq for a published one.
    this.storage.set(entryKey(entry.index), concatBytes(u32(slot), u32(seq), message));
    this.tail += 1;
    this.seq += 1;
    this.slotMark = Math.max(this.slotMark, slot + 1);
    this.held.push(entry);
    this.advanceHead();
    this.writeMeta();
    return entry;
  }

  remove(entry: OutboxEntry): void {
    const at = this.held.indexOf(entry);
    if (at < 0) return;
    this.held.splice(at, 1);
    this.storage.delete(entryKey(entry.index));
    this.advanceHead();
    this.writeMeta();
  }

  private advanceHead(): void {
    this.head = this.held.length > 0 ? this.held[0].index : this.tail;
  }

  private writeMeta(): void {
    this.storage.set(META_KEY, concatBytes(u32(this.head), u32(this.tail), u32(this.droppedCount), u32(this.seq), u32(this.slotMark)));
  }
}

function entryKey(index: number): string {
  return `ob.${index}`;
}
