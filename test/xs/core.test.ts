/**
 * The Paillier core inside the real XS engine: known answers (from paillier-bigint, see
 * fixtures/generate-vectors.ts), negative cases and a sample of property cases, each run in XS
 * and in Node through the same command (tools/xs/core-ops.ts) and required to agree exactly.
 */
import { readFileSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { PaillierPrivateKey } from '../../host/paillier/private-key.ts';
import { runCoreCommand, type CoreAnswer, type CoreCommand, type PackingBoundsJson } from '../../tools/xs/core-ops.ts';
import { bundle, startXsWorker, type XsWorker } from '../../host/xs/harness.ts';
import { katKeys } from '../helpers/kat.ts';
import { referenceModPow } from '../helpers/reference.ts';

interface KeyVectors {
  bits: number;
  p: string;
  q: string;
  n: string;
  keyId: string;
  encryptions: { m: string; r: string; rn: string; c: string }[];
  sum: { c: string; m: string };
  addPlain: { c: string; k: string; result: string };
  mulPlain: { c: string; k: string; result: string };
  rerandomize: { c: string; rn: string; result: string };
}

const vectors: { keys: KeyVectors[] } = JSON.parse(readFileSync(new URL('./fixtures/vectors.json', import.meta.url), 'utf8'));
const big = (hex: string) => BigInt('0x' + hex);
const hex = (value: bigint) => value.toString(16);

let xs: XsWorker;

test.before(async () => {
  xs = await startXsWorker({ bundle: await bundle(new URL('../../tools/xs/core-entry.ts', import.meta.url).pathname) });
});

test.after.always(async () => {
  await xs?.close();
});

/** Runs the command in XS and in Node, requires identical answers, returns XS's. */
async function inBoth(t: ExecutionContext, command: CoreCommand): Promise<CoreAnswer> {
  const inXs = (await xs.issue(command)) as CoreAnswer;
  t.deepEqual(inXs, runCoreCommand(command), `XS and Node differ on ${command.op}`);
  return inXs;
}

async function okInBoth(t: ExecutionContext, command: CoreCommand): Promise<any> {
  const answer = await inBoth(t, command);
  if (!('ok' in answer)) throw new Error(`${command.op} refused: ${answer.error}`);
  return answer.ok;
}

function privateKeyOf(key: KeyVectors): PaillierPrivateKey {
  return new PaillierPrivateKey(big(key.p), big(key.q));
}

test('XS prefers base-n digits modulo n^2 and Montgomery otherwise, V8 plain', async (t) => {
  t.deepEqual(await xs.issue({ op: 'engine' }), {
    ok: { xs: true, preferredArithKind: 'montgomery', preferredSquareArithKind: 'base-root' },
  });
  t.deepEqual(runCoreCommand({ op: 'engine' }), { ok: { xs: false, preferredArithKind: 'plain', preferredSquareArithKind: 'plain' } });
});

for (const key of vectors.keys) {
  const label = key.bits < 2048 ? `${key.bits}-bit test key (fast)` : `${key.bits}-bit key`;

  test(`known answers, ${label}: encryption with fixed r, with r^n, and r^n itself`, async (t) => {
    for (const e of key.encryptions) {
      t.is(await okInBoth(t, { op: 'encrypt', n: key.n, m: e.m, r: e.r }), e.c);
      t.is(await okInBoth(t, { op: 'precompute-rn', n: key.n, r: e.r }), e.rn);
      t.is(await okInBoth(t, { op: 'encrypt-with-rn', n: key.n, m: e.m, rn: e.rn }), e.c);
    }
  });

  test(`known answers, ${label}: every arithmetic kind gives the same r^n in XS`, async (t) => {
    const e = key.encryptions[1];
    for (const arith of ['base-root', 'montgomery', 'plain'] as const) {
      t.is(await okInBoth(t, { op: 'precompute-rn', n: key.n, r: e.r, arith }), e.rn, arith);
    }
  });

  test(`known answers, ${label}: homomorphic operations`, async (t) => {
    const ciphertexts = key.encryptions.map((e) => e.c);
    for (const arith of ['base-root', 'montgomery', 'plain'] as const) {
      t.is(await okInBoth(t, { op: 'add', n: key.n, ciphertexts, arith }), key.sum.c, `add, ${arith}`);
    }
    t.is(await okInBoth(t, { op: 'add-plain', n: key.n, c: key.addPlain.c, k: key.addPlain.k }), key.addPlain.result);
    t.is(await okInBoth(t, { op: 'mul-plain', n: key.n, c: key.mulPlain.c, k: key.mulPlain.k }), key.mulPlain.result);
    t.is(await okInBoth(t, { op: 'rerandomize', n: key.n, c: key.rerandomize.c, rn: key.rerandomize.rn }), key.rerandomize.result);
    t.is(privateKeyOf(key).decrypt(big(key.sum.c)), big(key.sum.m));
  });

  test(`known answers, ${label}: key and ciphertext codecs`, async (t) => {
    const json = { scheme: 'paillier', version: 1, keyId: key.keyId, n: key.n };
    const parsed = await okInBoth(t, { op: 'public-key-from-json', json: JSON.stringify(json) });
    t.deepEqual(parsed, { keyId: key.keyId, n: key.n, bits: key.bits, json });
    const ciphertextHexLength = 2 * 2 * Math.ceil(key.bits / 8);
    for (const e of key.encryptions) {
      const trip = await okInBoth(t, { op: 'ciphertext-round-trip', n: key.n, c: e.c });
      t.is(trip.text, e.c.padStart(ciphertextHexLength, '0'));
      t.is(trip.fromText, e.c);
      t.is(trip.fromBytes, e.c);
    }
  });
}

for (const kat of katKeys) {
  test(`short-exponent known answers (tools/vectors/paillier_kat.py), ${kat.bits}-bit: hs^a and its ciphertext in every arithmetic`, async (t) => {
    const se = kat.shortExponent;
    for (const arith of ['base-root', 'montgomery', 'plain'] as const) {
      for (const v of se.encryptions) {
        const command: CoreCommand = {
          op: 'precompute-short-exponent',
          n: kat.n,
          hs: se.hs,
          exponentBits: se.exponentBits,
          a: v.a,
          m: v.m,
          arith,
        };
        t.deepEqual(await okInBoth(t, command), { hsa: v.hsa, c: v.c }, `${arith} a=${v.a}`);
      }
    }
  });
}

const small = vectors.keys.find((k) => k.bits === 128)!;
const large = vectors.keys.find((k) => k.bits === 2048)!;

test('negative cases are refused with the same reason in XS and Node', async (t) => {
  const n = big(large.n);
  const length = 2 * 2 * Math.ceil(large.bits / 8);
  const goodC = large.encryptions[2].c.padStart(length, '0');
  const keyJson = { scheme: 'paillier', version: 1, keyId: large.keyId, n: large.n };
  const bounds: PackingBoundsJson = { maxReading: '100000', maxSummands: 1000, readings: 4, modulusBits: 2048 };
  const cases: [CoreCommand, string][] = [
    [{ op: 'ciphertext-from-hex', n: large.n, hex: goodC.slice(2) }, 'ciphertext-length'],
    [{ op: 'ciphertext-from-hex', n: large.n, hex: goodC + '00' }, 'ciphertext-length'],
    [{ op: 'ciphertext-from-hex', n: large.n, hex: goodC.toUpperCase() }, 'malformed-ciphertext'],
    [{ op: 'ciphertext-from-hex', n: large.n, hex: 'zz' + goodC.slice(2) }, 'malformed-ciphertext'],
    [{ op: 'ciphertext-from-hex', n: large.n, hex: '0'.repeat(length) }, 'ciphertext-out-of-range'],
    [{ op: 'ciphertext-from-hex', n: large.n, hex: 'f'.repeat(length) }, 'ciphertext-out-of-range'],
    [{ op: 'ciphertext-from-hex', n: large.n, hex: hex(n * n).padStart(length, '0') }, 'ciphertext-out-of-range'],
    [{ op: 'ciphertext-from-hex', n: large.n, hex: hex(n * 7n).padStart(length, '0') }, 'ciphertext-out-of-range'],
    [{ op: 'ciphertext-from-hex', n: large.n, hex: hex(big(large.p)).padStart(length, '0') }, 'ciphertext-out-of-range'],
    [{ op: 'ciphertext-from-bytes', n: large.n, bytesHex: goodC.slice(2) }, 'ciphertext-length'],
    [{ op: 'ciphertext-from-bytes', n: large.n, bytesHex: '00'.repeat(length / 2) }, 'ciphertext-out-of-range'],
    [{ op: 'public-key-from-json', json: '{"scheme":' }, 'malformed-key'],
    [{ op: 'public-key-from-json', json: [] }, 'malformed-key'],
    [{ op: 'public-key-from-json', json: { ...keyJson, scheme: 'rsa' } }, 'unsupported-key'],
    [{ op: 'public-key-from-json', json: { ...keyJson, version: 3 } }, 'unsupported-key'],
    [{ op: 'public-key-from-json', json: { ...keyJson, version: 2 } }, 'malformed-key'],
    [{ op: 'public-key-from-json', json: { ...keyJson, version: 2, hs: '2', exponentBits: 1000 } }, 'bad-short-exponent'],
    [{ op: 'public-key-from-json', json: { ...keyJson, version: 2, hs: '1', exponentBits: 1024 } }, 'bad-short-exponent'],
    [{ op: 'public-key-from-json', json: { ...keyJson, keyId: small.keyId } }, 'key-id-mismatch'],
    [{ op: 'public-key-from-json', json: { ...keyJson, keyId: 'ABCDEF0123456789' } }, 'malformed-key'],
    [{ op: 'public-key-from-json', json: { ...keyJson, n: '0' + large.n } }, 'malformed-key'],
    [{ op: 'public-key-from-json', json: { ...keyJson, n: '0x' + large.n } }, 'malformed-key'],
    [{ op: 'public-key-from-json', json: { ...keyJson, n: hex(n + 1n) } }, 'malformed-key'],
    [{ op: 'encrypt', n: small.n, m: small.n, r: small.encryptions[0].r }, 'plaintext-out-of-range'],
    [{ op: 'encrypt-with-rn', n: small.n, m: small.n, rn: small.encryptions[0].rn }, 'plaintext-out-of-range'],
    [{ op: 'add-plain', n: small.n, c: small.encryptions[0].c, k: small.n }, 'plaintext-out-of-range'],
    [{ op: 'pack', bounds, values: ['1', '2', '3'] }, 'wrong-reading-count'],
    [{ op: 'pack', bounds, values: ['1', '2', '3', '100001'] }, 'reading-out-of-range'],
    [{ op: 'pack', bounds, values: ['1', '-1', '3', '4'] }, 'reading-out-of-range'],
    [{ op: 'pack', bounds: { ...bounds, readings: 100 }, values: [] }, 'packing-does-not-fit'],
    [{ op: 'pack', bounds: { ...bounds, maxSummands: 0 }, values: [] }, 'bad-packing'],
    [{ op: 'unpack', bounds, plain: hex(1n << 108n) }, 'packed-overflow'],
    [{ op: 'arith', modulus: hex(1n << 64n), kind: 'montgomery', pow: [['2', '3']] }, 'bad-modulus'],
  ];
  for (const [command, reason] of cases) {
    t.deepEqual(await inBoth(t, command), { error: reason }, JSON.stringify(command).slice(0, 120));
  }
});

test('the pool hands out each r^n once, then refuses, identically in XS and Node (2048-bit key)', async (t) => {
  const result = await okInBoth(t, { op: 'pool', n: large.n, seed: 'pool-test', capacity: 3, refill: 10, takes: 4 });
  t.is(result.added, 3);
  t.is(result.taken.length, 3);
  t.is(new Set(result.taken).size, 3);
  t.is(result.sizeAfter, 0);
  t.is(result.refusal, 'pool-empty');
  const privateKey = privateKeyOf(large);
  for (const rn of result.taken) {
    const c = await okInBoth(t, { op: 'encrypt-with-rn', n: large.n, m: hex(1234n), rn });
    t.is(privateKey.decrypt(big(c)), 1234n);
  }
});

test('packing: known answer and sums of packed ciphertexts unpack slot-wise (2048-bit key)', async (t) => {
  const bounds: PackingBoundsJson = { maxReading: '100000', maxSummands: 1000, readings: 4, modulusBits: 2048 };
  const packed = await okInBoth(t, { op: 'pack', bounds, values: ['1', '2', '3', '100000'] });
  t.is(packed.slotBits, 27);
  t.is(packed.plain, hex(1n + (2n << 27n) + (3n << 54n) + (100000n << 81n)));
  const second = await okInBoth(t, { op: 'pack', bounds, values: ['10', '0', '30', '5'] });
  const [a, b] = large.encryptions;
  const ca = await okInBoth(t, { op: 'encrypt-with-rn', n: large.n, m: packed.plain, rn: a.rn });
  const cb = await okInBoth(t, { op: 'encrypt-with-rn', n: large.n, m: second.plain, rn: b.rn });
  const sum = await okInBoth(t, { op: 'add', n: large.n, ciphertexts: [ca, cb] });
  const plain = privateKeyOf(large).decrypt(big(sum));
  t.deepEqual(await okInBoth(t, { op: 'unpack', bounds, plain: hex(plain) }), ['11', '2', '33', '100005']);
});

// Property samples: fixed seeds, so a failure names a reproducible case.

test('property (fast, sampled): Montgomery equals plain arithmetic and a reference modPow, in XS and Node', async (t) => {
  const moduli = fc
    .sample(
      fc.integer({ min: 3, max: 1100 }).chain((bits) => fc.bigInt({ min: 1n << BigInt(bits - 1), max: (1n << BigInt(bits)) - 1n })),
      { seed: 20261130, numRuns: 12 },
    )
    .map((m) => m | 1n);
  moduli.push(big(large.n) * big(large.n));
  for (const [index, modulus] of moduli.entries()) {
    const operands = fc.sample(fc.tuple(fc.bigInt({ min: 0n, max: modulus - 1n }), fc.bigInt({ min: 0n, max: modulus })), {
      seed: index,
      numRuns: index === moduli.length - 1 ? 2 : 6,
    });
    const pow = operands.map(([b, e]) => [hex(b), hex(e)] as [string, string]);
    const mul = operands.map(([a, b]) => [hex(a), hex(b % modulus)] as [string, string]);
    const product = operands.map(([a]) => hex(a));
    const expected = {
      pow: operands.map(([b, e]) => hex(referenceModPow(b, e, modulus))),
      mul: operands.map(([a, b]) => hex((a * (b % modulus)) % modulus)),
      product: hex(operands.reduce((acc, [a]) => (acc * a) % modulus, 1n)),
    };
    for (const kind of ['montgomery', 'plain'] as const) {
      const got = await okInBoth(t, { op: 'arith', modulus: hex(modulus), kind, pow, mul, product });
      t.deepEqual(got, { kind, ...expected }, `${kind} mod ${modulus.toString(2).length}-bit modulus`);
    }
  }
});

test('property (fast, sampled, 128-bit test key): XS ciphertexts decrypt to the sum of their plaintexts', async (t) => {
  const n = big(small.n);
  const privateKey = privateKeyOf(small);
  const samples = fc.sample(
    fc.array(fc.tuple(fc.bigInt({ min: 0n, max: n - 1n }), fc.bigInt({ min: 1n, max: n - 1n })), { minLength: 1, maxLength: 8 }),
    { seed: 7, numRuns: 25 },
  );
  for (const sample of samples) {
    const ciphertexts: string[] = [];
    for (const [m, r] of sample) {
      const answer = await inBoth(t, { op: 'encrypt', n: small.n, m: hex(m), r: hex(r) });
      if ('error' in answer) {
        // r sharing a factor with n would be rejected by randomUnit; a sampled r never does in practice.
        t.fail(`encrypt refused: ${answer.error}`);
        return;
      }
      ciphertexts.push(answer.ok as string);
    }
    const sum = await okInBoth(t, { op: 'add', n: small.n, ciphertexts });
    const expected = sample.reduce((acc, [m]) => (acc + m) % n, 0n);
    t.is(privateKey.decrypt(big(sum)), expected);
  }
});

test('property (fast, sampled, 128-bit test key): packed readings up to the bounds sum slot-wise', async (t) => {
  const privateKey = privateKeyOf(small);
  const samples = fc.sample(
    fc
      .record({
        maxReading: fc.bigInt({ min: 1n, max: 1000n }),
        maxSummands: fc.integer({ min: 1, max: 6 }),
        readings: fc.integer({ min: 1, max: 4 }),
      })
      .chain((b) =>
        fc.tuple(
          fc.constant(b),
          fc.array(fc.array(fc.bigInt({ min: 0n, max: b.maxReading }), { minLength: b.readings, maxLength: b.readings }), {
            minLength: 1,
            maxLength: b.maxSummands,
          }),
        ),
      ),
    { seed: 11, numRuns: 20 },
  );
  for (const [b, rows] of samples) {
    const bounds: PackingBoundsJson = {
      maxReading: b.maxReading.toString(),
      maxSummands: b.maxSummands,
      readings: b.readings,
      modulusBits: small.bits,
    };
    const ciphertexts: string[] = [];
    for (const [i, row] of rows.entries()) {
      const { plain } = await okInBoth(t, { op: 'pack', bounds, values: row.map(String) });
      ciphertexts.push(
        await okInBoth(t, { op: 'encrypt-with-rn', n: small.n, m: plain, rn: small.encryptions[i % small.encryptions.length].rn }),
      );
    }
    const sum = await okInBoth(t, { op: 'add', n: small.n, ciphertexts });
    const totals = await okInBoth(t, { op: 'unpack', bounds, plain: hex(privateKey.decrypt(big(sum))) });
    t.deepEqual(totals, slotSums(rows, b.readings));
  }
});

function slotSums(rows: bigint[][], readings: number): string[] {
  const totals = new Array<bigint>(readings).fill(0n);
  for (const row of rows) row.forEach((v, i) => (totals[i] += v));
  return totals.map(String);
}
