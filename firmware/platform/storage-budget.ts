/**
 * How much the meter's storage holds, counted the way ESP-IDF's NVS (the device's preferences)
 * spends it: a partition of 4096-byte pages, one page kept free for NVS's own compaction, each
 * page 126 entries of 32 bytes; a value takes a header entry, a blob index entry and its bytes
 * rounded up to whole entries. The simulation's storage counts the same way, so a storage that
 * would be full on the device is full in simulation too.
 */

const PAGE_BYTES = 4096;
const ENTRIES_PER_PAGE = 126;
const ENTRY_BYTES = 32;

/** The NVS partition of the SDK's ESP32 partition table (`nvs, data, nvs, 0x9000, 0x6000`). */
export const DEVICE_PARTITION_BYTES = 0x6000;

/** The bytes of values a partition of this size holds (20,160 for the default 24 KB). */
export function usableBytes(partitionBytes: number): number {
  return Math.max(0, Math.floor(partitionBytes / PAGE_BYTES) - 1) * ENTRIES_PER_PAGE * ENTRY_BYTES;
}

/** What one stored value of this length costs of the usable bytes. */
export function storedBytes(valueLength: number): number {
  return ENTRY_BYTES * (2 + Math.ceil(valueLength / ENTRY_BYTES));
}
