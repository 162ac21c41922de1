/**
 * Reads the BDEW H25 household standard load profile (CSV as shipped in firmware/sensors/) and
 * writes it as the TypeScript module the firmware bundles (firmware/sensors/h25-profile.ts):
 * the firmware cannot read files, and the device build has no CSV loader.
 * Run: node --import tsx host/simulate/h25-csv.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fail } from '../../firmware/errors.ts';

export const H25_CSV_PATH = fileURLToPath(new URL('../../firmware/sensors/bdew-h25-household-standard-load-profile.csv', import.meta.url));
const MODULE_PATH = fileURLToPath(new URL('../../firmware/sensors/h25-profile.ts', import.meta.url));
const DAY_TYPES = ['SA', 'FT', 'WT'];

/** Values in thousandths of kWh per quarter hour (per 1,000,000 kWh/a), ordered month, day type (SA, FT, WT), quarter hour. */
export function parseH25Csv(text: string): number[] {
  const lines = text.trim().split(/\r?\n/);
  const dayTypes = lines[1].split(',').slice(1);
  if (dayTypes.length !== 36 || dayTypes.some((d, i) => d !== DAY_TYPES[i % 3])) fail('bad-profile', 'unexpected H25 column layout');
  const rows = lines.slice(2).map((line) => line.split(','));
  if (rows.length !== 96) fail('bad-profile', `expected 96 quarter hours, found ${rows.length}`);
  const out: number[] = [];
  for (let column = 1; column <= 36; column++) {
    for (const row of rows) {
      const value = Math.round(Number(row[column]) * 1000);
      if (!Number.isSafeInteger(value) || value < 0) fail('bad-profile', `bad value ${row[column]}`);
      out.push(value);
    }
  }
  return out;
}

export function renderProfileModule(values: number[]): string {
  if (values.some((v) => v > 0xffff)) fail('bad-profile', 'a value does not fit four hex digits');
  const hex = values.map((v) => v.toString(16).padStart(4, '0')).join('');
  return `/**
 * BDEW H25 household standard load profile (2025 edition), generated from
 * bdew-h25-household-standard-load-profile.csv by host/simulate/h25-csv.ts: do not edit.
 * Thousandths of kWh per quarter hour for an annual consumption of 1,000,000 kWh, ordered by
 * month (January first), day type (Saturday, Sunday/holiday, working day), quarter hour (00:00 first).
 * Four hex digits a value in one string literal: XS keeps a literal in the program's code (flash,
 * or the lin archive); as an array of 3,456 numbers it went into the heap, and the lin build with
 * the nodemcu's 78 KB chunk heap aborted at boot asking 39 KB for it.
 */
export const H25_QUARTER_HOURS = 96;
export const H25_DAY_TYPES = 3;
export const H25_ANNUAL_KWH = 1_000_000;

const H25_MILLI_KWH_HEX =
  '${hex}';

export function h25MilliKwh(index: number): number {
  return parseInt(H25_MILLI_KWH_HEX.slice(4 * index, 4 * index + 4), 16);
}
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(MODULE_PATH, renderProfileModule(parseH25Csv(readFileSync(H25_CSV_PATH, 'utf8'))));
}
