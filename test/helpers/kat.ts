/** Loads the known-answer vectors computed independently by tools/vectors/paillier_kat.py. */
import { readFileSync } from 'node:fs';

export interface KatKey {
  bits: number;
  keyId: string;
  n: string;
  p: string;
  q: string;
  encryptions: { m: string; r: string; rn: string; c: string }[];
  /** Randomness hs^a with hs = (-y^2 mod n)^n mod n^2; c decrypts to m by textbook decryption. */
  shortExponent: { y: string; hs: string; exponentBits: number; encryptions: { m: string; a: string; hsa: string; c: string }[] };
  add: { a: string; b: string; sum: string; plain: string };
  addPlain: { c: string; k: string; result: string; plain: string };
  mulPlain: { c: string; k: string; result: string; plain: string };
  rerandomize: { c: string; r: string; result: string; plain: string };
}

export const katKeys: KatKey[] = JSON.parse(readFileSync(new URL('../vectors/paillier-kat.json', import.meta.url), 'utf8')).keys;

export const hexToBig = (hex: string) => BigInt('0x' + hex);

/** A random source that returns the given value once, left-padded to the requested length. */
export function fixedRandom(value: bigint) {
  let used = false;
  return (length: number) => {
    if (used) throw new Error('fixed random source used twice');
    used = true;
    const out = new Uint8Array(length);
    let v = value;
    for (let i = length - 1; i >= 0; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return out;
  };
}
