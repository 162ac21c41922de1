/** Reads a config file; relative paths inside it are relative to the file's folder. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import { parseConfig, type MeterveilConfig } from './schema.ts';

export function loadConfig(path: string): MeterveilConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    fail('config-unreadable', `cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail('bad-config', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  const base = dirname(resolve(path));
  return parseConfig(json, (p) => resolve(base, p));
}
