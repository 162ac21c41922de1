/**
 * The Paillier core's operations behind one JSON command interface, so that the very same
 * commands run in Node (runCoreCommand directly) and in XS (core-entry.ts serves them), and the
 * two engines' answers can be compared byte for byte. Big numbers travel as lowercase hex.
 * Every answer is { ok: value } or { error: reason } (a MeterveilError's reason).
 */
import { bigIntToBytes, hexToBytes } from '../../firmware/bytes.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import {
  residuesFor,
  createModArith,
  isXsEngine,
  preferredArithKind,
  preferredSquareArithKind,
  type ArithKind,
  type SquareArithKind,
} from '../../firmware/paillier/arith.ts';
import {
  ciphertextFromBytes,
  ciphertextFromHex,
  ciphertextToBytes,
  ciphertextToHex,
  publicKeyFromJson,
  publicKeyToJson,
} from '../../firmware/paillier/codec.ts';
import { CombTable } from '../../firmware/paillier/comb.ts';
import { SlotPacking } from '../../firmware/paillier/packing.ts';
import { WindowPowJob, type PowJob } from '../../firmware/paillier/steps.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { RandomnessPool } from '../../firmware/paillier/pool.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import type { RandomBytes } from '../../firmware/paillier/random.ts';
import { seededRandomForTests } from './seeded-random.ts';

export type CoreCommand =
  | { op: 'engine' }
  | { op: 'encrypt'; n: string; m: string; r: string; arith?: SquareArithKind }
  | { op: 'precompute-rn'; n: string; r: string; arith?: SquareArithKind }
  | { op: 'precompute-short-exponent'; n: string; hs: string; exponentBits: number; a: string; m: string; arith?: SquareArithKind }
  | { op: 'encrypt-with-rn'; n: string; m: string; rn: string }
  | { op: 'add'; n: string; ciphertexts: string[]; arith?: SquareArithKind }
  | { op: 'add-plain'; n: string; c: string; k: string }
  | { op: 'mul-plain'; n: string; c: string; k: string; arith?: SquareArithKind }
  | { op: 'rerandomize'; n: string; c: string; rn: string; arith?: SquareArithKind }
  | { op: 'arith'; modulus: string; kind: ArithKind; pow?: [string, string][]; mul?: [string, string][]; product?: string[] }
  | { op: 'pool'; n: string; seed: string; capacity: number; refill: number; takes: number }
  | { op: 'comb'; n: string; hs: string; height: number; blocks: number; step: number; exponents: string[]; arith?: SquareArithKind }
  | { op: 'pack'; bounds: PackingBoundsJson; values: string[] }
  | { op: 'unpack'; bounds: PackingBoundsJson; plain: string }
  | { op: 'public-key-from-json'; json: unknown }
  | { op: 'ciphertext-from-hex'; n: string; hex: string }
  | { op: 'ciphertext-from-bytes'; n: string; bytesHex: string }
  | { op: 'ciphertext-round-trip'; n: string; c: string };

export interface PackingBoundsJson {
  maxReading: string;
  maxSummands: number;
  readings: number;
  modulusBits: number;
}

export type CoreAnswer = { ok: unknown } | { error: string };

const hex = (value: bigint) => value.toString(16);
const big = (text: string) => BigInt('0x' + text);

/** A source that yields exactly r (as rejection sampling in randomUnit accepts it at once). */
function fixedRandom(r: bigint, n: bigint): RandomBytes {
  const bytes = bigIntToBytes(r, Math.ceil(n.toString(2).length / 8));
  return (length) => {
    if (length !== bytes.length) throw new Error(`unexpected draw of ${length} bytes`);
    return bytes.slice();
  };
}

const keys = new Map<string, PaillierPublicKey>();

function publicKey(n: string, arith?: SquareArithKind): PaillierPublicKey {
  const cacheKey = `${n}/${arith ?? ''}`;
  let key = keys.get(cacheKey);
  if (!key) {
    key = new PaillierPublicKey(big(n), { arith });
    keys.set(cacheKey, key);
  }
  return key;
}

function packing(bounds: PackingBoundsJson): SlotPacking {
  return SlotPacking.forBounds({ ...bounds, maxReading: BigInt(bounds.maxReading) });
}

function execute(command: CoreCommand): unknown {
  switch (command.op) {
    case 'engine':
      return { xs: isXsEngine(), preferredArithKind: preferredArithKind(), preferredSquareArithKind: preferredSquareArithKind() };
    case 'encrypt': {
      const key = publicKey(command.n, command.arith);
      return hex(key.encrypt(big(command.m), fixedRandom(big(command.r), key.n)));
    }
    case 'precompute-rn': {
      const key = publicKey(command.n, command.arith);
      return hex(key.precomputeRn(fixedRandom(big(command.r), key.n)));
    }
    case 'precompute-short-exponent': {
      const shortExponent = { hs: big(command.hs), exponentBits: command.exponentBits };
      const key = new PaillierPublicKey(big(command.n), { arith: command.arith, shortExponent });
      const a = bigIntToBytes(big(command.a), Math.ceil(command.exponentBits / 8));
      const hsa = key.precomputeRn(() => a.slice());
      return { hsa: hex(hsa), c: ciphertextToHex(key, key.encryptWithRn(BigInt(command.m), hsa)) };
    }
    case 'encrypt-with-rn':
      return hex(publicKey(command.n).encryptWithRn(big(command.m), big(command.rn)));
    case 'add':
      return hex(publicKey(command.n, command.arith).add(...command.ciphertexts.map(big)));
    case 'add-plain':
      return hex(publicKey(command.n).addPlain(big(command.c), big(command.k)));
    case 'mul-plain':
      return hex(publicKey(command.n, command.arith).mulPlain(big(command.c), big(command.k)));
    case 'rerandomize':
      return hex(publicKey(command.n, command.arith).rerandomize(big(command.c), big(command.rn)));
    case 'arith': {
      const arith = createModArith(big(command.modulus), command.kind);
      return {
        kind: arith.kind,
        pow: (command.pow ?? []).map(([b, e]) => hex(arith.pow(big(b), big(e)))),
        mul: (command.mul ?? []).map(([a, b]) => hex(arith.mul(big(a), big(b)))),
        product: command.product ? hex(arith.product(command.product.map(big))) : null,
      };
    }
    case 'pool': {
      const pool = new RandomnessPool(publicKey(command.n), seededRandomForTests(command.seed), command.capacity);
      const added = pool.refill(command.refill);
      const taken: string[] = [];
      let refusal: string | null = null;
      for (let i = 0; i < command.takes; i++) {
        try {
          taken.push(hex(pool.take()));
        } catch (error) {
          if (!(error instanceof MeterveilError)) throw error;
          refusal = error.reason;
          break;
        }
      }
      return { added, taken, sizeAfter: pool.size, refusal };
    }
    case 'comb': {
      const shortExponent = { hs: big(command.hs), exponentBits: Math.ceil(big(command.n).toString(2).length / 2) };
      const key = new PaillierPublicKey(big(command.n), { arith: command.arith, shortExponent });
      const storage = new MemoryStorage([], () => {}, 1 << 20);
      const table = new CombTable(storage, { height: command.height, blocks: command.blocks });
      const build = table.build(key);
      let buildSteps = 0;
      for (; !build.done; buildSteps++) if (build.step(command.step) > command.step) throw new Error('step over budget');
      const stepwise = (job: PowJob) => {
        while (!job.done) if (job.step(command.step) > command.step) throw new Error('step over budget');
        return hex(job.result());
      };
      const residues = residuesFor(key.n, key.arith);
      return {
        buildSteps,
        ready: table.readyFor(key),
        comb: command.exponents.map((e) => stepwise(table.pow(key, big(e)))),
        window: command.exponents.map((e) => stepwise(new WindowPowJob(residues, shortExponent.hs, big(e)))),
      };
    }
    case 'pack': {
      const p = packing(command.bounds);
      return { slotBits: p.slotBits, plain: hex(p.pack(command.values.map((v) => BigInt(v)))) };
    }
    case 'unpack':
      return packing(command.bounds)
        .unpack(big(command.plain))
        .map((v) => v.toString());
    case 'public-key-from-json': {
      const key = publicKeyFromJson(command.json);
      return { keyId: key.keyId, n: hex(key.n), bits: key.bits, json: publicKeyToJson(key) };
    }
    case 'ciphertext-from-hex':
      return hex(ciphertextFromHex(publicKey(command.n), command.hex));
    case 'ciphertext-from-bytes':
      return hex(ciphertextFromBytes(publicKey(command.n), hexToBytes(command.bytesHex)));
    case 'ciphertext-round-trip': {
      const key = publicKey(command.n);
      const c = big(command.c);
      const text = ciphertextToHex(key, c);
      const bytes = ciphertextToBytes(key, c);
      return { text, fromText: hex(ciphertextFromHex(key, text)), fromBytes: hex(ciphertextFromBytes(key, bytes)) };
    }
    default:
      throw new Error(`unknown core command ${(command as { op: string }).op}`);
  }
}

export function runCoreCommand(command: CoreCommand): CoreAnswer {
  try {
    return { ok: execute(command) };
  } catch (error) {
    if (error instanceof MeterveilError) return { error: error.reason };
    throw error;
  }
}
