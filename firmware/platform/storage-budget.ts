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

/**
 * A partition of raw flash for the comb table (firmware/platform/moddable/flash-table-storage.ts):
 * 4096-byte sectors, the first for the table's header, each other one a directory slot and
 * entry slots of the table's entry size (seven of 512 bytes at 2048 bits).
 */
export const FLASH_SECTOR_BYTES = 4096;

/** The comb table's partition manifests/esp32/partitions.csv gives a board with 4 MB of flash (the nodemcu). */
export const TABLE_PARTITION_BYTES = 0x80000;

export interface FlashTableLayout {
  /** Bytes of one entry slot: the table's entry size (two residues' digits, 512 bytes at 2048 bits). */
  slotBytes: number;
  /** Entry slots of a sector beside its directory (which holds one 16-bit length a slot). */
  slotsPerSector: number;
  /** Entries the partition holds. */
  entries: number;
}

export function flashTableLayout(partitionBytes: number, slotBytes: number): FlashTableLayout {
  const slotsPerSector = Math.max(0, Math.floor(FLASH_SECTOR_BYTES / slotBytes) - 1);
  const sectors = Math.floor(partitionBytes / FLASH_SECTOR_BYTES) - 1;
  return { slotBytes, slotsPerSector, entries: Math.max(0, sectors) * slotsPerSector };
}

/**
 * A flash table partition as a storage's capacity and cost: what firmware/meter/randomness.ts sizes
 * the default comb by, on the device and wherever a board's partition is simulated (lin, XS).
 */
export function flashTableBudget(
  partitionBytes: number,
  slotBytes: number,
): { capacityBytes: number; storedBytes: (valueLength: number) => number } {
  const { entries } = flashTableLayout(partitionBytes, slotBytes);
  // The header is counted as one more entry: it fits a slot, though it has a sector of its own.
  return { capacityBytes: (entries + 1) * slotBytes, storedBytes: (valueLength) => (valueLength <= slotBytes ? slotBytes : Infinity) };
}

/** What one stored value of this length costs of the usable bytes. */
export function storedBytes(valueLength: number): number {
  return ENTRY_BYTES * (2 + Math.ceil(valueLength / ENTRY_BYTES));
}
