/** Strict parsing of the small JSON messages between host roles. */
import { fail } from '../../firmware/errors.ts';

export function parseJsonMessage(bytes: Uint8Array, maxBytes: number, what: string): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) fail('malformed', `${what} must be bytes`);
  if (bytes.length > maxBytes) fail('oversized', `${what} is ${bytes.length} bytes, the limit is ${maxBytes}`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    fail('malformed', `${what} is not UTF-8 JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('malformed', `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

export function exactKeys(obj: Record<string, unknown>, keys: string[], what: string) {
  const present = Object.keys(obj);
  for (const key of present) if (!keys.includes(key)) fail('malformed', `${what}: unknown field "${key}"`);
  for (const key of keys) if (!(key in obj)) fail('malformed', `${what}: missing field "${key}"`);
}

export function u32Field(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0xffffffff)
    fail('malformed', `${what} must be an integer in 0..2^32-1`);
  return value as number;
}

export function encodeJsonMessage(obj: object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(obj));
}
