/**
 * `meterveil start`: the API's readers and their bearer tokens, created on first run. The tokens
 * themselves stay in keys/api-readers.json (mode 0600, beside the other secrets of the all-in-one
 * deployment), so that every start can print the dashboard's address with its token; the provider
 * reads only their digests (http.tokens, host/provider/api-tokens.ts).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { apiTokensFile, DEFAULT_READERS, freshApiToken } from '../provider/api-tokens.ts';

function writePrivate(path: string, body: object): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function readerTokensPath(config: MeterveilConfig): string {
  return join(dirname(config.keys.secrets), 'api-readers.json');
}

/** Each reader's token, by name; the digests file is rewritten to match whenever a reader was added. */
export function ensureReaderTokens(config: MeterveilConfig, readers = DEFAULT_READERS): Map<string, string> {
  const path = readerTokensPath(config);
  let tokens = new Map<string, string>();
  if (existsSync(path)) {
    const json = JSON.parse(readFileSync(path, 'utf8')) as { readers?: Record<string, unknown> };
    if (!json.readers || Object.values(json.readers).some((t) => typeof t !== 'string'))
      fail('bad-api-tokens', `${path}: expected {"readers": {"<name>": "<token>"}}`);
    tokens = new Map(Object.entries(json.readers as Record<string, string>));
  }
  const missing = readers.filter((r) => !tokens.has(r));
  for (const reader of missing) tokens.set(reader, freshApiToken());
  if (missing.length > 0) writePrivate(path, { readers: Object.fromEntries(tokens) });
  if (missing.length > 0 || !existsSync(config.http.tokens)) writePrivate(config.http.tokens, apiTokensFile(tokens));
  return tokens;
}
