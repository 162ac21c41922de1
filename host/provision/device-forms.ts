/**
 * The forms in which a meter's configuration reaches the device. The configuration is the JSON
 * object firmware/config/schema.ts validates; on the device it arrives either
 *   - at build time: one mcconfig argument `meterveilConfig=<base64 of the JSON>` (base64 so that
 *     neither the shell nor mcconfig's generated mc/config module has to escape anything), or
 *   - at provisioning time: one preference, domain "meterveil", key "config", the JSON as a
 *     string (ESP32 NVS: key at most 15 characters, value at most 4000 bytes); for the `lin`
 *     simulator the same preference in the file its preference module reads (modpreferences.json).
 * A meter built for a board gets its whole mcconfig command line, one argument per line, so that
 * a Wi-Fi name with a space in it stays one argument (`xargs -d '\n' -a mcconfig.args mcconfig ...`).
 */
import { fail } from '../../firmware/errors.ts';

export const MCCONFIG_KEY = 'meterveilConfig';
export const PREFERENCE_DOMAIN = 'meterveil';
export const PREFERENCE_KEY = 'config';
export const MAX_PREFERENCE_BYTES = 4000;

export interface PreferenceEntry {
  domain: string;
  key: string;
  value: string;
}

export function mcconfigArgument(firmwareConfig: object): string {
  return `${MCCONFIG_KEY}=${Buffer.from(JSON.stringify(firmwareConfig), 'utf8').toString('base64')}`;
}

/** The mcconfig arguments of a meter's build: its configuration, and on an ESP32 its Wi-Fi (the SDK's `ssid` and `password`). */
export function mcconfigArguments(firmwareConfig: object, wifi?: { ssid: string; password: string }): string[] {
  return [
    mcconfigArgument(firmwareConfig),
    ...(wifi ? [`ssid=${wifi.ssid}`, ...(wifi.password ? [`password=${wifi.password}`] : [])] : []),
  ];
}

export function firmwareConfigFromMcconfig(argument: string): unknown {
  const prefix = `${MCCONFIG_KEY}=`;
  if (!argument.startsWith(prefix)) fail('malformed-device-config', `expected ${prefix}<base64>`);
  return JSON.parse(Buffer.from(argument.slice(prefix.length), 'base64').toString('utf8'));
}

export function preferenceEntries(firmwareConfig: object): PreferenceEntry[] {
  const value = JSON.stringify(firmwareConfig);
  if (Buffer.byteLength(value) > MAX_PREFERENCE_BYTES) {
    fail(
      'device-config-too-large',
      `the meter configuration takes ${Buffer.byteLength(value)} bytes; a preference holds at most ${MAX_PREFERENCE_BYTES}`,
    );
  }
  return [{ domain: PREFERENCE_DOMAIN, key: PREFERENCE_KEY, value }];
}

/** The `lin` preference module's file (its domains, then keys, then values), holding the meter's configuration. */
export function linPreferenceFile(firmwareConfig: object): Record<string, Record<string, string>> {
  const [entry] = preferenceEntries(firmwareConfig);
  return { [entry.domain]: { [entry.key]: entry.value } };
}
