/**
 * XS side of the core benchmark suite. Node sends `setup` once per key size, then for every
 * sample `prepare` (untimed set-up, e.g. filling the pool) and `run` (the timed loop, timed
 * inside XS with performance.now so that the pipe to Node does not count).
 */
import { PaillierPublicKey } from '../../../firmware/paillier/public-key.ts';
import { RandomnessPool } from '../../../firmware/paillier/pool.ts';
import { randomUnit } from '../../../firmware/paillier/random.ts';
import { seededRandomForTests } from '../../xs/seeded-random.ts';
import { serveCommands } from '../../../firmware/platform/xs-sim/xs-side.ts';

interface State {
  key: PaillierPublicKey;
  plainKey: PaillierPublicKey;
  m: bigint;
  c1: bigint;
  c2: bigint;
  rns: bigint[];
  pool?: RandomnessPool;
  ciphertexts?: bigint[];
}

let state: State | undefined;
// The benchmark needs reproducible inputs in XS, which has no entropy source of its own here.
const random = seededRandomForTests('benchmark');
let sink: bigint = 0n;

/** The reference the XS target is stated against: right-to-left binary powering with `%`. */
function plainBinaryPow(base: bigint, exp: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
    exp >>= 1n;
  }
  return result;
}

function current(): State {
  if (!state) throw new Error('setup first');
  return state;
}

/** A pool whose entries are copies of a few real r^n: refilling 1,000 real entries would take minutes. */
function poolOf(s: State, size: number): RandomnessPool {
  let next = 0;
  const recycling = Object.create(s.key, { precomputeRn: { value: () => s.rns[next++ % s.rns.length] } });
  const pool = new RandomnessPool(recycling as PaillierPublicKey, random, Math.max(size, 1));
  pool.refill(size);
  return pool;
}

const operations: Record<string, (s: State) => bigint> = {
  'encrypt-full': (s) => s.key.encrypt(s.m, random),
  'encrypt-full/plain-window': (s) => s.plainKey.encrypt(s.m, random),
  'encrypt-full/plain-binary': (s) => {
    const n = s.key.n;
    const rn = plainBinaryPow(randomUnit(n, random), n, s.key.nSquared);
    return ((1n + s.m * n) * rn) % s.key.nSquared;
  },
  'encrypt-online': (s) => s.key.encryptWithRn(s.m, s.pool!.take()),
  add: (s) => s.key.add(s.c1, s.c2),
  // add(...list) with 10,000 arguments overflows the XS stack; product() is what add() runs.
  'aggregate-10k': (s) => s.key.arith.product(s.ciphertexts!),
};

serveCommands((command: { op: string; n?: string; m?: string; name?: string; iterations?: number; count?: number }) => {
  switch (command.op) {
    case 'setup': {
      const key = new PaillierPublicKey(BigInt('0x' + command.n));
      const plainKey = new PaillierPublicKey(key.n, { arith: 'plain' });
      const m = BigInt('0x' + command.m);
      const rns = [0, 1, 2, 3].map(() => key.precomputeRn(random));
      state = { key, plainKey, m, rns, c1: key.encryptWithRn(m, rns[0]), c2: key.encryptWithRn(m, rns[1]) };
      return { arith: key.arith.kind };
    }
    case 'prepare': {
      const s = current();
      if (command.name === 'encrypt-online') s.pool = poolOf(s, command.iterations!);
      if (command.name === 'aggregate-10k' && !s.ciphertexts) {
        // Valid ciphertexts (encryptions of c1's plaintext times i) without 10,000 exponentiations.
        const list = [s.c1];
        for (let i = 1; i < 10_000; i++) list.push(s.key.arith.mul(list[i - 1], s.c1));
        s.ciphertexts = list;
      }
      return null;
    }
    case 'run': {
      const s = current();
      const operation = operations[command.name!];
      if (!operation) throw new Error(`unknown operation ${command.name}`);
      const start = performance.now();
      for (let i = 0; i < command.iterations!; i++) sink = operation(s);
      return { ms: performance.now() - start, check: (sink & 0xffffn).toString() };
    }
    default:
      throw new Error(`unknown command ${command.op}`);
  }
});
