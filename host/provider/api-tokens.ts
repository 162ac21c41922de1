/**
 * Bearer tokens for the provider's HTTP API, one per reader (the dashboard, a script, Prometheus).
 * The API is read-only, so a token grants reading group totals, refusals, alerts and metrics, and
 * nothing else. The provider keeps only each token's SHA-256 digest (config http.tokens):
 *   { "scheme": "meterveil-api-tokens", "version": 1, "readers": { "dashboard": "<64 hex>", ... } }
 * A presented token is hashed and compared with every reader's digest by crypto.timingSafeEqual,
 * all of them, so neither the time taken nor an early exit tells how much of a token was right.
 * The page itself (/ and its assets) is served without one; /api/* (the live stream too) and
 * /metrics need one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { id as checkId } from '../../firmware/config/rules.ts';

export const API_TOKENS_SCHEME = 'meterveil-api-tokens';
/** The readers `start` and `provision` make tokens for unless told others: the page in a browser, and scripts or a scraper. */
export const DEFAULT_READERS = ['dashboard', 'scripts'];
const TOKEN_BYTES = 32;
const TOKEN_FORM = /^[A-Za-z0-9_-]{43}$/;
const MAX_READERS = 64;

/** Reader names with each one's token digest. */
export type ApiTokens = ReadonlyMap<string, Buffer>;

/** 256 random bits, base64url: fits a URL fragment and a header without escaping. */
export function freshApiToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function apiTokensFile(readers: ReadonlyMap<string, string>): object {
  return {
    scheme: API_TOKENS_SCHEME,
    version: 1,
    readers: Object.fromEntries([...readers].map(([name, token]) => [name, tokenDigest(token).toString('hex')])),
  };
}

export function parseApiTokens(value: unknown, what: string): ApiTokens {
  const bad = (problem: string): never => fail('bad-api-tokens', `${what}: ${problem}`);
  const v = value as { scheme?: unknown; version?: unknown; readers?: unknown } | null;
  if (!v || typeof v !== 'object' || v.scheme !== API_TOKENS_SCHEME || v.version !== 1)
    bad(`expected {"scheme": "${API_TOKENS_SCHEME}", "version": 1, "readers": {...}}`);
  const readers = v!.readers;
  if (!readers || typeof readers !== 'object' || Array.isArray(readers)) return bad('readers must be an object');
  const entries = Object.entries(readers);
  if (entries.length === 0 || entries.length > MAX_READERS) bad(`readers must name 1..${MAX_READERS} readers`);
  const tokens = new Map<string, Buffer>();
  for (const [name, digest] of entries) {
    checkId(name, `reader "${name}"`, (_field, explanation) => bad(`reader "${name}": ${explanation}`));
    if (typeof digest !== 'string' || !/^[0-9a-f]{64}$/.test(digest))
      bad(`reader ${name}: a SHA-256 digest is 64 lowercase hex characters`);
    tokens.set(name, Buffer.from(digest as string, 'hex'));
  }
  return tokens;
}

export function readApiTokens(path: string): ApiTokens {
  if (!existsSync(path))
    fail(
      'secrets-missing',
      `${path} does not exist: the API serves no one without reader tokens (run "meterveil start" once or provision)`,
    );
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    fail('bad-api-tokens', `${path} is not JSON: ${(e as Error).message}`);
  }
  return parseApiTokens(json, path);
}

/** Whether a path is served to token holders only: all of the API and the metrics; not the page. */
export function needsToken(path: string): boolean {
  return path.startsWith('/api/') || path === '/api' || path === '/metrics';
}

/**
 * The reader whose token an `Authorization` header carries; a missing header is `token-required`,
 * any other token `token-refused`.
 */
export function readerOf(tokens: ApiTokens, authorization: string | undefined): string {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization ?? '');
  if (!match) return fail('token-required', 'send Authorization: Bearer <token>');
  const presented = tokenDigest(match[1]);
  let reader: string | undefined;
  for (const [name, digest] of tokens) if (timingSafeEqual(presented, digest) && reader === undefined) reader = name;
  if (reader === undefined || !TOKEN_FORM.test(match[1])) return fail('token-refused', 'the bearer token is no reader’s');
  return reader;
}

/** A 401 answer for a request that needs a token and has none that is a reader's; undefined to serve it. */
export function unauthorized(
  tokens: ApiTokens,
  path: string,
  authorization: string | undefined,
): { error: string; message: string } | undefined {
  if (!needsToken(path)) return undefined;
  try {
    readerOf(tokens, authorization);
    return undefined;
  } catch (e) {
    if (e instanceof MeterveilError) return { error: e.reason, message: e.message };
    throw e;
  }
}
