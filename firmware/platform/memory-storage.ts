/**
 * Storage held in memory, seeded from and reporting every write to its owner (the simulation keeps
 * the durable copy). It holds what the device's default partition holds unless told otherwise,
 * and refuses a write beyond that as the device would.
 */
import { fail } from '../errors.ts';
import type { Storage } from './port.ts';
import { DEVICE_PARTITION_BYTES, storedBytes as nvsStoredBytes, usableBytes } from './storage-budget.ts';

/**
 * A copy through ArrayBuffer.prototype.slice, one native memcpy: XS meters a typed array's slice
 * at two computrons a byte and from() per element, which made reading one 512-byte comb entry
 * cost as much as a modular product.
 */
function copyOf(bytes: Uint8Array): Uint8Array {
  return new Uint8Array((bytes.buffer as ArrayBuffer).slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

export class MemoryStorage implements Storage {
  private readonly values = new Map<string, Uint8Array>();
  private used = 0;

  constructor(
    initial: Iterable<[string, Uint8Array]> = [],
    private readonly onWrite: (key: string, value: Uint8Array | undefined) => void = () => {},
    readonly capacityBytes: number = usableBytes(DEVICE_PARTITION_BYTES),
    readonly storedBytes: (valueLength: number) => number = nvsStoredBytes,
  ) {
    for (const [key, value] of initial) {
      this.values.set(key, Uint8Array.from(value));
      this.used += this.storedBytes(value.length);
    }
  }

  get(key: string): Uint8Array | undefined {
    const value = this.values.get(key);
    return value && copyOf(value);
  }

  set(key: string, value: Uint8Array): void {
    if (key.length > 15) fail('storage-key-too-long', `storage key "${key}" is longer than 15 characters`);
    if (value.length > 4000) fail('storage-value-too-large', `storage value for "${key}" is larger than 4000 bytes`);
    // NVS writes the new value before it erases the old one: a rewrite needs room for both.
    if (this.used + this.storedBytes(value.length) > this.capacityBytes)
      fail('storage-full', `no room for ${value.length} bytes under "${key}": ${this.used} of ${this.capacityBytes} bytes in use`);
    const previous = this.values.get(key);
    const copy = copyOf(value);
    this.values.set(key, copy);
    this.used += this.storedBytes(value.length) - (previous ? this.storedBytes(previous.length) : 0);
    this.onWrite(key, copy);
  }

  delete(key: string): void {
    const previous = this.values.get(key);
    if (previous) this.used -= this.storedBytes(previous.length);
    this.values.delete(key);
    this.onWrite(key, undefined);
  }

  /** Bytes in use, counted as capacityBytes is. */
  get usedBytes(): number {
    return this.used;
  }

  entries(): [string, Uint8Array][] {
    return [...this.values.entries()];
  }
}
