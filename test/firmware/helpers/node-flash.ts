/**
 * The SDK's `flash` module over memory with NOR flash's rules, so the comb table's flash storage
 * (firmware/platform/moddable/flash-table-storage.ts) can be checked here, where no ESP32 is: an
 * erase sets a 4096-byte sector to 0xff, a write only clears bits (one that would set a bit
 * throws, as the data would be corrupt on the chip). Only the calls that file makes.
 */
const SECTOR = 4096;
export const partitions = new Map<string, Uint8Array>();
export const counts = { erases: 0, writes: 0 };

export default class Flash {
  private readonly bytes: Uint8Array;

  constructor(name: string) {
    const bytes = partitions.get(name);
    if (!bytes) throw new Error(`no partition ${name}`);
    this.bytes = bytes;
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  get blockSize(): number {
    return SECTOR;
  }

  erase(sector: number): void {
    if (sector < 0 || (sector + 1) * SECTOR > this.bytes.length) throw new Error(`sector ${sector} out of range`);
    this.bytes.fill(0xff, sector * SECTOR, (sector + 1) * SECTOR);
    counts.erases++;
  }

  read(offset: number, byteLength: number): ArrayBuffer {
    if (offset + byteLength > this.bytes.length) throw new Error('read out of range');
    return this.bytes.slice(offset, offset + byteLength).buffer;
  }

  write(offset: number, byteLength: number, buffer: ArrayBuffer): void {
    const data = new Uint8Array(buffer, 0, byteLength);
    if (offset + byteLength > this.bytes.length) throw new Error('write out of range');
    for (let i = 0; i < byteLength; i++) {
      if ((data[i] & ~this.bytes[offset + i]) !== 0) throw new Error(`write at ${offset + i} would set bits of a programmed byte`);
      this.bytes[offset + i] &= data[i];
    }
    counts.writes++;
  }
}
