/**
 * The port's storage on the ESP32: preferences (NVS) in a domain of the meter's own, apart from
 * the provisioning domain "meterveil". Values are ArrayBuffers and live in flash, not in the XS
 * heap. The partition's size comes from the manifest (`config.storageBytes`, the SDK's 24 KB
 * `nvs` partition unless a board's partition table says otherwise). The preference module throws
 * one "nvs set fail" for every failed write; a full partition is by far the likeliest, so every
 * failed write is `storage-full`.
 */
import config from 'mc/config';
import Preference from 'preference';
import { fail } from '../../errors.ts';
import type { Storage } from '../port.ts';
import { DEVICE_PARTITION_BYTES, usableBytes } from '../storage-budget.ts';

export const STATE_DOMAIN = 'meterveil.st';

/** The partition the manifest declares, or the SDK's default. */
export function partitionBytes(): number {
  const declared = Number(config.storageBytes);
  return Number.isInteger(declared) && declared > 0 ? declared : DEVICE_PARTITION_BYTES;
}

export const preferenceStorage: Storage = {
  capacityBytes: usableBytes(partitionBytes()),
  get(key) {
    const value = Preference.get(STATE_DOMAIN, key);
    return value instanceof ArrayBuffer ? new Uint8Array(value) : undefined;
  },
  set(key, value) {
    try {
      Preference.set(STATE_DOMAIN, key, value.slice().buffer as ArrayBuffer);
    } catch (error) {
      fail('storage-full', `preference ${key} (${value.length} bytes) not written: ${(error as Error).message}`);
    }
  },
  delete(key) {
    Preference.delete(STATE_DOMAIN, key);
  },
};
