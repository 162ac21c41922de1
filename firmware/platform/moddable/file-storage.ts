/**
 * The port's storage in the `lin` simulator: one file per key in a folder of the meter's own,
 * holding no more than the device's NVS partition would (counted as firmware/platform/storage-budget.ts
 * counts), so a storage that would be full on the device is full here too. Not the SDK's lin
 * preference module: that one keeps every value in the XS heap (an ArrayBuffer as a string of
 * decimal bytes, about 3.5 bytes of string a byte) and every key name it has seen, which a device's
 * NVS does neither, so a lin run with the device's heap would measure the simulator's storage.
 */
import config from 'mc/config';
import { Directory, File, Iterator } from 'file';
import { fail } from '../../errors.ts';
import type { Storage } from '../port.ts';
import { storedBytes, usableBytes } from '../storage-budget.ts';
import { partitionBytes, STATE_DOMAIN } from './storage.ts';

/** The meter's own folder: `mcconfig ... stateFolder=<path>/` keeps two simulators apart. */
export const STATE_FOLDER = String(config.stateFolder || `${config.file.root}${STATE_DOMAIN}/`);

/**
 * The files of `folder`, holding what the device's NVS partition would unless `budget` says
 * otherwise (the comb table's flash partition, storage-budget.ts flashTableBudget).
 */
export function fileStorage(
  folder = STATE_FOLDER,
  budget: { capacityBytes: number; storedBytes: (valueLength: number) => number } = {
    capacityBytes: usableBytes(partitionBytes()),
    storedBytes,
  },
): Storage {
  const { capacityBytes, storedBytes: cost } = budget;
  try {
    Directory.create(folder);
  } catch {
    // It exists already: the meter's state from an earlier run.
  }
  let used = 0;
  const listing = new Iterator(folder);
  for (let entry = listing.next(); entry; entry = listing.next()) if (entry.length !== undefined) used += cost(entry.length);

  const lengthOf = (path: string): number | undefined => {
    if (!File.exists(path)) return undefined;
    const file = new File(path);
    const length = file.length;
    file.close();
    return length;
  };

  return {
    capacityBytes,
    storedBytes: cost,
    get(key) {
      const path = folder + key;
      const length = lengthOf(path);
      if (length === undefined) return undefined;
      if (length === 0) return new Uint8Array(0);
      const file = new File(path);
      const bytes = file.read(ArrayBuffer);
      file.close();
      return new Uint8Array(bytes);
    },
    set(key, value) {
      if (key.length > 15) fail('storage-key-too-long', `storage key "${key}" is longer than 15 characters`);
      if (value.length > 4000) fail('storage-value-too-large', `storage value for "${key}" is larger than 4000 bytes`);
      // As NVS: the new value is written before the old one is erased, so a rewrite needs room for both.
      if (used + cost(value.length) > capacityBytes)
        fail('storage-full', `no room for ${value.length} bytes under "${key}": ${used} of ${capacityBytes} bytes in use`);
      const path = folder + key;
      const previous = lengthOf(path);
      if (previous !== undefined) File.delete(path);
      const file = new File(path, true);
      file.write(value.slice().buffer as ArrayBuffer);
      file.close();
      used += cost(value.length) - (previous === undefined ? 0 : cost(previous));
    },
    delete(key) {
      const path = folder + key;
      const previous = lengthOf(path);
      if (previous === undefined) return;
      File.delete(path);
      used -= cost(previous);
    },
  };
}
