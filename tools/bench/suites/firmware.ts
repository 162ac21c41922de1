/**
 * The meter's own costs, inside XS (the engine of the device): the work per slot once the
 * readings are known (r^n from the pool, packing, online encryption, framing, portable
 * HMAC-SHA256, outbox) against one full encryption, the same with three custodians'
 * authenticators against it without, and one pool refill (r^n) with the ESP32
 * estimate of docs/benchmarks.md (XS on this machine x 120) and the slot length it supports.
 * On the device the MAC uses the SDK's native SHA-256; here the portable one stands in.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { publicKeyToJson } from '../../../firmware/paillier/codec.ts';
import { generateKeyPair } from '../../../host/paillier/keygen.ts';
import { measureInterleaved, type Candidate } from '../measure.ts';
import { bundle, startXsWorker, type XsWorker } from '../../../host/xs/harness.ts';
import type { BenchContext, BenchRow, BenchSuite, BenchTarget, RowSelector, SuiteResult } from '../types.ts';

export const ENTRY = fileURLToPath(new URL('../firmware/xs-entry.ts', import.meta.url));
/** XS on an ESP32 against XS on this machine, for 4096-bit BigInt arithmetic (shared/notes/performance-anchors.md: 100-145x). */
export const ESP32_SLOWDOWN = 120;
const XS = { impl: 'meterveil', engine: 'xs' } as const;
const FULL = { ...XS, op: 'firmware-encrypt-full' };
const SLOT_WORK = { ...XS, op: 'firmware-slot-work' };
/** The threshold demo's custodians (npm start -- --threshold 2-of-3): one report authenticator each. */
const CUSTODIANS = 3;

export function meterConfig(publicKey: Awaited<ReturnType<typeof generateKeyPair>>['publicKey']) {
  return {
    meterId: 'bench-meter',
    publicKey: publicKeyToJson(publicKey),
    macKey: randomBytes(32).toString('hex'),
    deviceKey: randomBytes(32).toString('hex'),
    broker: { url: 'mqtt://127.0.0.1:1883' },
    groups: ['feeder-a', 'street-7'],
    custodians: CUSTODIANS,
    slotSeconds: 900,
    packing: { readings: 15, maxGroupSize: 10_000 },
  };
}

export function xsSampler(xs: XsWorker, name: string) {
  return async (batch: number) => {
    await xs.issue({ op: 'prepare', name, iterations: batch });
    const { ms } = await xs.issue({ op: 'run', name, iterations: batch });
    return ms as number;
  };
}

export async function computronsPerOp(xs: XsWorker, name: string, iterations: number): Promise<number> {
  await xs.issue({ op: 'prepare', name, iterations });
  await xs.issue({ op: 'run', name, iterations });
  return xs.computrons / iterations;
}

async function measureKeySize(bits: number, context: BenchContext, notes: string[]): Promise<BenchRow[]> {
  // Classic r^n: the reference these rows have always had; short exponents and the comb table are the randomness suite's.
  const { publicKey } = await generateKeyPair(bits, 'classic');
  const xs = await startXsWorker({ bundle: await bundle(ENTRY) });
  try {
    const setup = await xs.issue({ op: 'setup', config: meterConfig(publicKey) });
    context.log(`  ${bits} bits: XS ${setup.arith} arithmetic, ${setup.readings} readings of ${setup.slotBits} bits per report`);
    const candidates: Candidate<RowSelector>[] = [
      { key: SLOT_WORK, sample: xsSampler(xs, 'slot-work') },
      { key: { ...XS, op: 'firmware-slot-work-custodians' }, sample: xsSampler(xs, 'slot-work-custodians') },
      { key: FULL, sample: xsSampler(xs, 'encrypt-full'), batch: 1 },
      { key: { ...XS, op: 'firmware-refill-rn' }, sample: xsSampler(xs, 'refill-rn'), batch: 1 },
    ];
    const rounds = context.quick ? 3 : 9;
    context.log(`  ${bits} bits: slot work, full encryption, pool refill (${rounds} rounds)`);
    const measured = await measureInterleaved(candidates, rounds, 50);
    const names: Record<string, string> = {
      'firmware-slot-work': 'slot-work',
      'firmware-slot-work-custodians': 'slot-work-custodians',
      'firmware-encrypt-full': 'encrypt-full',
      'firmware-refill-rn': 'refill-rn',
    };
    const rows: BenchRow[] = [];
    for (const m of measured) {
      const perSlot = m.key.op.startsWith('firmware-slot-work');
      const iterations = perSlot ? Math.max(m.batch, 10) : 1;
      rows.push({
        ...m.key,
        bits,
        ms: m.msPerOp,
        samples: m.samples,
        batch: m.batch,
        computrons: Math.round(await computronsPerOp(xs, names[m.key.op], iterations)),
        ...(m.key.op === 'firmware-slot-work' ? { peer: FULL } : {}),
        // Side by side with the slot work without authenticators: what the custodians cost the meter.
        ...(m.key.op === 'firmware-slot-work-custodians' ? { peer: SLOT_WORK } : {}),
      });
    }
    const refill = rows.find((r) => r.op === 'firmware-refill-rn')!;
    const esp32Seconds = (refill.ms * ESP32_SLOWDOWN) / 1000;
    const slotWork = rows.find((r) => r.op === 'firmware-slot-work')!;
    notes.push(
      `${bits} bits: pool refill r^n takes ${refill.ms.toFixed(1)} ms in XS here, about ${esp32Seconds.toFixed(1)} s on an ESP32 (x${ESP32_SLOWDOWN}); ` +
        `one refill per slot fits slots of ${Math.ceil(esp32Seconds)} s or longer (default 60 s: ${esp32Seconds <= 60 ? 'keeps up' : 'does NOT keep up'}); ` +
        `slot work ${slotWork.ms.toFixed(2)} ms here, about ${((slotWork.ms * ESP32_SLOWDOWN) / 1000).toFixed(2)} s on an ESP32.`,
    );
    return rows;
  } finally {
    await xs.close();
  }
}

export const suite: BenchSuite = {
  name: 'firmware',
  async run(context: BenchContext): Promise<SuiteResult> {
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    for (const bits of context.bits) rows.push(...(await measureKeySize(bits, context, notes)));
    return { rows, notes };
  },
  targets: [
    {
      name: 'XS: firmware work per slot (pool r^n, pack, encrypt, frame, MAC, outbox) <= 2% of one full encryption in XS',
      bits: 2048,
      numerator: { ...XS, op: 'firmware-slot-work' },
      denominator: FULL,
      maxRatio: 0.02,
    },
  ] satisfies BenchTarget[],
};
