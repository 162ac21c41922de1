/**
 * What provisioning needs to know about each meter's hardware, read from `provision --devices
 * FILE`: the board it is built for, its sensor, its Wi-Fi and the broker URL it reaches. Kept out
 * of the deployment config because every role reads that, and Wi-Fi passwords belong to the
 * meters alone.
 *
 * FILE is JSON:
 *   { "defaults": SETTINGS, "meters": { "<meter id>": SETTINGS, ... }, "fleet": "meters.csv" }
 * SETTINGS: { "board": "esp32/<board>" | "lin", "sensor": {...}, "wifi": { "ssid", "password" },
 *             "brokerUrl": "mqtt://host:port" }, every key optional;
 * or a CSV file (directly, or named by "fleet", relative to the JSON file): one row per meter,
 * columns `meter`, `board`, `ssid`, `wifiPassword`, `brokerUrl`, `sensor` (its kind) and the
 * sensor's own fields by name (`address`, `pin`, `ampsPerCount`, ...); an empty cell says nothing.
 * A meter's settings are the defaults, then its CSV row, then its entry in "meters". A sensor of
 * another kind than the one before it replaces that one instead of merging into it.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { fail } from '../../firmware/errors.ts';
import type { DevicePlatform } from '../../firmware/config/platform-sensors.ts';

export interface WifiSettings {
  ssid: string;
  password: string;
}

export interface DeviceSettings {
  board?: string;
  sensor?: Record<string, unknown>;
  wifi?: WifiSettings;
  brokerUrl?: string;
}

export interface DeviceFile {
  defaults: DeviceSettings;
  /** Per-meter settings, already merged over the CSV rows (not yet over the defaults). */
  meters: Map<string, DeviceSettings>;
}

const SETTINGS_KEYS = ['board', 'sensor', 'wifi', 'brokerUrl'];
const BOARD = /^(lin|esp32\/[a-z0-9_-]{1,40})$/;
const CSV_TEXT_COLUMNS = ['meter', 'board', 'ssid', 'wifiPassword', 'brokerUrl', 'sensor'];
const CSV_NUMBER_COLUMNS = [
  'uartPort',
  'receivePin',
  'transmitPin',
  'address',
  'replyTimeoutMs',
  'reinitAfterMisses',
  'pin',
  'volts',
  'ampsPerCount',
  'zeroCount',
  'burdenOhms',
  'turns',
  'adcFullScaleVolts',
  'adcBits',
  'powerFactor',
  'mainsHz',
  'seed',
  'yearlyKwh',
  'utcOffsetMinutes',
];

function bad(where: string, explanation: string): never {
  return fail('bad-device-settings', `${where}: ${explanation}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function settings(value: unknown, where: string): DeviceSettings {
  if (!isObject(value)) return bad(where, 'must be an object');
  for (const key of Object.keys(value)) if (!SETTINGS_KEYS.includes(key)) bad(where, `unknown key "${key}"`);
  const out: DeviceSettings = {};
  if (value.board !== undefined) {
    if (typeof value.board !== 'string' || !BOARD.test(value.board))
      bad(`${where}.board`, 'must be "lin" or "esp32/<board>", e.g. "esp32/nodemcu"');
    out.board = value.board;
  }
  if (value.sensor !== undefined) {
    if (!isObject(value.sensor)) bad(`${where}.sensor`, 'must be an object with a kind');
    out.sensor = { ...value.sensor };
  }
  if (value.wifi !== undefined) out.wifi = wifi(value.wifi, `${where}.wifi`);
  if (value.brokerUrl !== undefined) {
    if (typeof value.brokerUrl !== 'string' || value.brokerUrl.length === 0) bad(`${where}.brokerUrl`, 'must be a URL string');
    out.brokerUrl = value.brokerUrl;
  }
  return out;
}

function wifi(value: unknown, where: string): WifiSettings {
  if (!isObject(value)) return bad(where, 'must be an object {"ssid", "password"}');
  for (const key of Object.keys(value)) if (key !== 'ssid' && key !== 'password') bad(where, `unknown key "${key}"`);
  const { ssid, password } = value;
  // IEEE 802.11: an SSID is 1-32 bytes; a WPA2 passphrase 8-63 characters, or none for an open network.
  if (typeof ssid !== 'string' || Buffer.byteLength(ssid) < 1 || Buffer.byteLength(ssid) > 32) bad(`${where}.ssid`, 'must be 1-32 bytes');
  if (typeof password !== 'string' || (password.length > 0 && (password.length < 8 || password.length > 63)))
    bad(`${where}.password`, 'must be 8-63 characters, or "" for an open network');
  if (/[\n\r\0]/.test(ssid) || /[\n\r\0]/.test(password)) bad(where, 'must not contain line breaks or NUL');
  return { ssid, password };
}

/** Later settings win; a sensor of another kind replaces the earlier one. */
export function mergeSettings(...layers: (DeviceSettings | undefined)[]): DeviceSettings {
  const out: DeviceSettings = {};
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.board !== undefined) out.board = layer.board;
    if (layer.wifi !== undefined) out.wifi = layer.wifi;
    if (layer.brokerUrl !== undefined) out.brokerUrl = layer.brokerUrl;
    if (layer.sensor !== undefined) {
      const sameKind = out.sensor && (layer.sensor.kind === undefined || layer.sensor.kind === out.sensor.kind);
      out.sensor = sameKind ? { ...out.sensor, ...layer.sensor } : { ...layer.sensor };
    }
  }
  return out;
}

function csvRows(path: string): Map<string, DeviceSettings> {
  let records: Record<string, string>[];
  try {
    records = parseCsv(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (e) {
    return bad(path, (e as Error).message);
  }
  const rows = new Map<string, DeviceSettings>();
  records.forEach((record, i) => {
    const where = `${path} row ${i + 2}`;
    for (const column of Object.keys(record))
      if (!CSV_TEXT_COLUMNS.includes(column) && !CSV_NUMBER_COLUMNS.includes(column)) bad(path, `unknown column "${column}"`);
    const meter = record.meter;
    if (!meter) bad(where, 'the meter column is empty');
    if (rows.has(meter)) bad(where, `meter ${meter} is listed twice`);
    const sensor: Record<string, unknown> = {};
    if (record.sensor) sensor.kind = record.sensor;
    for (const column of CSV_NUMBER_COLUMNS) {
      const cell = record[column];
      if (cell === undefined || cell === '') continue;
      const value = Number(cell);
      if (!Number.isFinite(value)) bad(`${where}, ${column}`, `"${cell}" is not a number`);
      sensor[column] = value;
    }
    const raw: Record<string, unknown> = {};
    if (record.board) raw.board = record.board;
    if (record.brokerUrl) raw.brokerUrl = record.brokerUrl;
    if (record.ssid || record.wifiPassword) raw.wifi = { ssid: record.ssid ?? '', password: record.wifiPassword ?? '' };
    if (Object.keys(sensor).length > 0) raw.sensor = sensor;
    rows.set(meter, settings(raw, where));
  });
  return rows;
}

export function readDeviceFile(path: string): DeviceFile {
  if (path.endsWith('.csv')) return { defaults: {}, meters: csvRows(path) };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return bad(path, (e as Error).message);
  }
  if (!isObject(raw)) return bad(path, 'must be a JSON object');
  for (const key of Object.keys(raw)) if (!['defaults', 'meters', 'fleet'].includes(key)) bad(path, `unknown key "${key}"`);
  const defaults = raw.defaults === undefined ? {} : settings(raw.defaults, 'defaults');
  let meters = new Map<string, DeviceSettings>();
  if (raw.fleet !== undefined) {
    if (typeof raw.fleet !== 'string' || !raw.fleet.endsWith('.csv')) bad('fleet', 'must name a .csv file');
    meters = csvRows(resolve(dirname(path), raw.fleet));
  }
  if (raw.meters !== undefined) {
    if (!isObject(raw.meters)) bad('meters', 'must be an object of meter id to settings');
    for (const [meter, value] of Object.entries(raw.meters))
      meters.set(meter, mergeSettings(meters.get(meter), settings(value, `meters.${meter}`)));
  }
  return { defaults, meters };
}

/** The firmware build a board needs: the ESP32 entry for every esp32/<board>, the simulator's for lin. */
export function platformOf(board: string): DevicePlatform {
  return board === 'lin' ? 'lin' : 'esp32';
}
