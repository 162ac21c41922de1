/**
 * The port's storage on Moddable: preferences (NVS on the ESP32, files on `lin`) in a domain of
 * the meter's own, apart from the provisioning domain "meterveil". Values are ArrayBuffers.
 */
import Preference from 'preference';
import type { Storage } from '../port.ts';

export const STATE_DOMAIN = 'meterveil.st';

export const preferenceStorage: Storage = {
  get(key) {
    const value = Preference.get(STATE_DOMAIN, key);
    return value instanceof ArrayBuffer ? new Uint8Array(value) : undefined;
  },
  set(key, value) {
    Preference.set(STATE_DOMAIN, key, value.slice().buffer as ArrayBuffer);
  },
  delete(key) {
    Preference.delete(STATE_DOMAIN, key);
  },
};
