/** Storage held in memory, seeded from and reporting every write to its owner (the simulation keeps the durable copy). */
import { fail } from '../errors.ts';
import type { Storage } from './port.ts';

export class MemoryStorage implements Storage {
  private readonly values = new Map<string, Uint8Array>();

  constructor(
    initial: Iterable<[string, Uint8Array]> = [],
    private readonly onWrite: (key: string, value: Uint8Array | undefined) => void = () => {},
  ) {
    for (const [key, value] of initial) this.values.set(key, Uint8Array.from(value));
  }

  get(key: string): Uint8Array | undefined {
    const value = this.values.get(key);
    return value && Uint8Array.from(value);
  }

  set(key: string, value: Uint8Array): void {
    if (key.length > 15) fail('storage-key-too-long', `storage key "${key}" is longer than 15 characters`);
    if (value.length > 4000) fail('storage-value-too-large', `storage value for "${key}" is larger than 4000 bytes`);
    const copy = Uint8Array.from(value);
    this.values.set(key, copy);
    this.onWrite(key, copy);
  }

  delete(key: string): void {
    this.values.delete(key);
    this.onWrite(key, undefined);
  }

  entries(): [string, Uint8Array][] {
    return [...this.values.entries()];
  }
}
