/**
 * The comb table's storage on the ESP32: a data partition of raw flash (manifests/esp32/partitions.csv,
 * `mvtable`, 512 KB) through the SDK's `flash` module, so a table of hundreds of KB stays out of
 * the XS heap and out of the 24 KB NVS. Layout (storage-budget.ts flashTableLayout): sector 0 holds
 * the header `cb.h` as a 16-bit length and its bytes; entry `cb.<i>` is slot i % slotsPerSector of
 * sector 1 + floor(i / slotsPerSector), its length in that sector's directory (0xffff: not written
 * since the sector's erase; 0: deleted). Flash only clears bits, so a slot is written once between
 * erases: writing a slot already used erases its sector and writes its other live entries back. The
 * length goes in before the bytes, so a write cut short by a reset leaves a used slot (the next
 * build erases it), never bytes written over bytes; the header says the table is complete only after
 * its last entry.
 */
import Flash from 'flash';
import { fail } from '../../errors.ts';
import type { Storage } from '../port.ts';
import { FLASH_SECTOR_BYTES, flashTableBudget, flashTableLayout } from '../storage-budget.ts';

const HEADER_KEY = 'cb.h';
/** A fresh RegExp per use: the firmware is preloaded, and XS's exec writes its match state into the RegExp object, which a module-level one keeps in flash, read-only (lin: a segfault). */
const entryKey = (): RegExp => /^cb\.(\d+)$/;
const UNUSED = 0xffff;
const DELETED = 0;

function u16Bytes(value: number): ArrayBuffer {
  return Uint8Array.of(value >> 8, value & 255).buffer;
}

function buffer(bytes: Uint8Array): ArrayBuffer {
  return (bytes.buffer as ArrayBuffer).slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

/** The table storage of partition `name` for entries of `slotBytes`; undefined when the board has no such partition. */
export function flashTableStorage(name: string, slotBytes: number): Storage | undefined {
  let flash: Flash;
  try {
    flash = new Flash(name);
  } catch {
    return undefined;
  }
  const { slotsPerSector, entries } = flashTableLayout(flash.byteLength, slotBytes);
  const read = (offset: number, length: number) => new Uint8Array(flash.read(offset, length) as ArrayBuffer);
  const readU16 = (offset: number) => {
    const b = read(offset, 2);
    return (b[0] << 8) | b[1];
  };
  const where = (key: string) => {
    const match = entryKey().exec(key);
    if (!match) fail('storage-key-unknown', `the comb table partition has no place for "${key}"`);
    const index = Number(match[1]);
    if (index >= entries) fail('storage-full', `comb entry ${index} is beyond the ${entries} the partition ${name} holds`);
    const sector = 1 + Math.floor(index / slotsPerSector);
    const slot = index % slotsPerSector;
    return { sector, slot, directory: sector * FLASH_SECTOR_BYTES + 2 * slot, data: sector * FLASH_SECTOR_BYTES + slotBytes * (1 + slot) };
  };
  const writeSlot = (directory: number, data: number, value: Uint8Array) => {
    flash.write(directory, 2, u16Bytes(value.length));
    if (value.length > 0) flash.write(data, value.length, buffer(value));
  };

  return {
    ...flashTableBudget(flash.byteLength, slotBytes),
    get(key) {
      if (key === HEADER_KEY) {
        const length = readU16(0);
        return length === UNUSED ? undefined : read(2, length);
      }
      const { directory, data } = where(key);
      const length = readU16(directory);
      return length === UNUSED || length === DELETED ? undefined : read(data, length);
    },
    set(key, value) {
      if (key === HEADER_KEY) {
        if (value.length > FLASH_SECTOR_BYTES - 2) fail('storage-value-too-large', `comb header of ${value.length} bytes`);
        flash.erase(0);
        writeSlot(0, 2, value);
        return;
      }
      if (value.length === 0 || value.length > slotBytes)
        fail('storage-value-too-large', `a comb entry of ${value.length} bytes does not fit the partition's ${slotBytes}-byte slots`);
      const { sector, slot, directory, data } = where(key);
      if (readU16(directory) === UNUSED) return writeSlot(directory, data, value);
      // The slot was written since its sector's erase: keep the sector's other entries across one.
      const base = sector * FLASH_SECTOR_BYTES;
      const kept: [number, Uint8Array][] = [];
      for (let other = 0; other < slotsPerSector; other++) {
        const length = other === slot ? UNUSED : readU16(base + 2 * other);
        if (length !== UNUSED && length !== DELETED) kept.push([other, read(base + slotBytes * (1 + other), length)]);
      }
      flash.erase(sector);
      for (const [other, bytes] of kept) writeSlot(base + 2 * other, base + slotBytes * (1 + other), bytes);
      writeSlot(directory, data, value);
    },
    delete(key) {
      if (key === HEADER_KEY) {
        if (readU16(0) !== UNUSED) flash.erase(0);
        return;
      }
      // An entry beyond the partition was never written (its write failed as storage-full).
      if (Number(entryKey().exec(key)?.[1]) >= entries) return;
      const { directory } = where(key);
      const length = readU16(directory);
      if (length !== UNUSED && length !== DELETED) flash.write(directory, 2, u16Bytes(DELETED));
    },
  };
}
