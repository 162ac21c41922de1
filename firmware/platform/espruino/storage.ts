/**
 * The port's storage over Espruino's `Storage` (flash): one file per key, named "mv" and the key
 * (keys are at most 15 characters, Storage names at most 28), holding the value's bytes. A write
 * Storage refuses (no room left) is `storage-full`, as the port requires, so the outbox gives up
 * its oldest report instead of the meter stopping.
 */
import { fail } from '../../errors.ts';
import type { Storage } from '../port.ts';
import { binaryString, storageModule } from './api.ts';

const PREFIX = 'mv';
/** The Storage file provisioning writes and the meter reads at boot (firmware/config/masked-schema.ts). */
export const CONFIG_FILE = 'meterveil.json';

export function espruinoStorage(capacityBytes: number): Storage {
  const files = storageModule();
  return {
    capacityBytes,
    storedBytes: (valueLength) => valueLength,
    get(key) {
      const held = files.readArrayBuffer(PREFIX + key);
      if (held === undefined) return undefined;
      // A copy: on a board the buffer maps flash, which a later write of the file moves.
      const out = new Uint8Array(held.byteLength);
      out.set(new Uint8Array(held), 0);
      return out;
    },
    set(key, value) {
      if (key.length > 15) fail('storage-key-too-long', `storage key "${key}" is longer than 15 characters`);
      if (!files.write(PREFIX + key, binaryString(value))) fail('storage-full', `Storage refused ${value.length} bytes under "${key}"`);
    },
    delete(key) {
      files.erase(PREFIX + key);
    },
  };
}
