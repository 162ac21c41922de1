/**
 * The sensor drivers in the real XS engine against simulated hardware, in virtual time: the
 * PZEM-004T driver reads the power at its configured address, a lost or bad reply is counted and
 * the next sample reads again, a run of misses re-opens the UART; the CT clamp's RMS follows its
 * calibration.
 */
import test from 'ava';
import { bundle, startXsWorker, type XsWorker } from '../../host/xs/harness.ts';
import { PZEM_REPLY_TIMEOUT_MS } from '../../firmware/sensors/pzem004t.ts';
import { validateConfig } from '../../firmware/config/schema.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { rawMeterConfig } from './helpers/config.ts';
import type { PzemFault } from './helpers/simulated-pzem.ts';

const keys = testKeyPair();

let worker: XsWorker;

test.before(async () => {
  worker = await startXsWorker({ bundle: await bundle(new URL('./fixtures/sensors-entry.ts', import.meta.url).pathname) });
});

test.after.always(async () => {
  await worker?.close();
});

interface PzemResult {
  readings: (number | null)[];
  stats: { requests: number; replies: number; misses: number; missesByReason: Record<string, number>; reinits: number; held: number };
  opens: number;
  closes: number;
  requests: number;
}

function pzem(overrides: {
  faults?: PzemFault[];
  watts?: number[];
  samples?: number;
  address?: number;
  deviceAddress?: number;
  reinitAfterMisses?: number;
}) {
  return worker.issue({
    kind: 'pzem',
    address: 7,
    deviceAddress: 7,
    watts: [1234.5],
    faults: [],
    samples: 5,
    sampleMs: 1000,
    replyTimeoutMs: PZEM_REPLY_TIMEOUT_MS,
    reinitAfterMisses: 3,
    replyDelayMs: 60,
    lateDelayMs: PZEM_REPLY_TIMEOUT_MS + 50,
    ...overrides,
  }) as Promise<PzemResult>;
}

test('the read request is Modbus function 0x04 of registers 0..9 at the configured address, with its CRC-16/MODBUS', async (t) => {
  // The PZEM-004T v3 manual's example: read all ten registers of slave 1.
  t.deepEqual(
    ((await worker.issue({ kind: 'request', address: 1 })) as { frame: number[] }).frame,
    [0x01, 0x04, 0x00, 0x00, 0x00, 0x0a, 0x70, 0x0d],
  );
  const other = (await worker.issue({ kind: 'request', address: 0x42 })) as { frame: number[]; crcOfWhole: number };
  t.deepEqual(other.frame.slice(0, 6), [0x42, 0x04, 0, 0, 0, 0x0a]);
  t.is(other.crcOfWhole, 0, 'a Modbus frame with its CRC appended checks to zero');
});

test('the driver reads active power from registers 3 and 4 in 0.1 W, one sample behind', async (t) => {
  const run = await pzem({ watts: [0, 1234.5, 7234.5, 6553.6, 99_999.9], samples: 5 });
  // 7234.5 W and 99,999.9 W need the high word: a driver that drops it reads 680.9 W and 3446.3 W.
  t.deepEqual(run.readings, [0, 1234.5, 7234.5, 6553.6, 99_999.9]);
  t.like(run.stats, { requests: 6, replies: 5, misses: 0, reinits: 0, held: 0 });
  t.is(run.opens, 1);
});

test('a lost reply times out, is counted, holds the last reading for one sample, and the next sample reads again', async (t) => {
  const run = await pzem({
    watts: [100, 200, 300, 400, 500, 600, 700],
    faults: ['none', 'silent', 'none', 'silent', 'silent', 'none'],
    samples: 6,
  });
  // Requests 2, 4 and 5 are lost: the sample after one loss holds the reading before it, after two it has none.
  t.deepEqual(run.readings, [100, 100, 300, 300, null, 600]);
  t.like(run.stats, { requests: 7, replies: 3, misses: 3, held: 2, reinits: 0, missesByReason: { 'sensor-timeout': 3 } });
});

test('a reply after the timeout is a miss, and its late bytes do not spoil the next reply', async (t) => {
  const run = await pzem({ watts: [100, 200, 300], faults: ['none', 'late', 'none'], samples: 3 });
  t.deepEqual(run.readings, [100, 100, 300]);
  t.like(run.stats, { misses: 1, missesByReason: { 'sensor-timeout': 1 } });
});

for (const [fault, reason] of [
  ['bad-crc', 'sensor-bad-crc'],
  ['wrong-address', 'sensor-wrong-address'],
  ['wrong-function', 'sensor-wrong-function'],
  ['exception', 'sensor-exception'],
  ['short', 'sensor-bad-frame'],
] as const) {
  test(`a reply with ${fault} is refused as ${reason} and the next one is read`, async (t) => {
    const run = await pzem({ watts: [100, 200, 300, 400], faults: ['none', fault, 'none', fault], samples: 4 });
    t.deepEqual(run.readings, [100, 100, 300, 300]);
    t.like(run.stats, { misses: 2, replies: 2, reinits: 0 });
    t.deepEqual(run.stats.missesByReason, { [reason]: 2 });
  });
}

test('garbage on the line is a miss, never a reading', async (t) => {
  const run = await pzem({ watts: [100], faults: ['none', 'garbage', 'garbage', 'none'], samples: 4 });
  t.deepEqual(run.readings, [100, 100, null, 100]);
  t.is(run.stats.misses, 2);
});

test('a PZEM at another address never answers: every request is a miss, nothing is read', async (t) => {
  // The SDK driver asked the general address 0xF8, which any PZEM on the bus answers.
  const run = await pzem({ address: 7, deviceAddress: 8, samples: 4, reinitAfterMisses: 100 });
  t.deepEqual(run.readings, [null, null, null, null]);
  t.like(run.stats, { replies: 0, misses: 4, missesByReason: { 'sensor-timeout': 4 } });
});

test('N misses in a row re-open the UART, and reading goes on afterwards', async (t) => {
  const run = await pzem({
    watts: [50],
    faults: ['none', 'silent', 'bad-crc', 'silent', 'silent', 'silent', 'silent', 'none'],
    samples: 9,
    reinitAfterMisses: 3,
  });
  // Misses 2..7 (six in a row): re-opened after the third and the sixth; request 8 reads again.
  t.like(run.stats, { misses: 6, reinits: 2, replies: 3 });
  t.is(run.opens, 3);
  t.is(run.closes, 2);
  t.deepEqual(run.readings, [50, 50, null, null, null, null, null, 50, 50]);
});

test('misses with good replies between them never re-open the UART', async (t) => {
  const run = await pzem({
    watts: [50],
    faults: ['silent', 'silent', 'none', 'silent', 'silent', 'none'],
    samples: 6,
    reinitAfterMisses: 3,
  });
  t.like(run.stats, { misses: 4, reinits: 0 });
  t.is(run.opens, 1);
});

test('the CT clamp turns the RMS of the counts into watts with its calibration', async (t) => {
  const wave = { offset: 1850, amplitude: 1000, hz: 50, conversionMs: 0.05, phase: 0.3 };
  const base = { volts: 230, ampsPerCount: 0.02, powerFactor: 1, mainsHz: 50 };
  const watts = async (w: typeof wave, options: Record<string, number>) =>
    ((await worker.issue({ kind: 'ct-clamp', wave: w, options: { ...base, ...options } })) as { watts: number }).watts;
  // 1000 counts peak at 0.02 A per count: 20 A peak, 14.142 A RMS, 3252.7 W at 230 V.
  const expected = (0.02 * 1000 * 230) / Math.SQRT2;
  const within = (value: number, target: number, what: string) =>
    t.true(Math.abs(value - target) <= target * 0.005, `${what}: ${value} W, expected ${target}`);
  within(await watts(wave, {}), expected, 'offset measured');
  within(await watts(wave, { zeroCount: 1850 }), expected, 'offset configured');
  within(await watts(wave, { ampsPerCount: 0.01 }), expected / 2, 'half the amperes per count');
  within(await watts(wave, { volts: 120 }), (expected * 120) / 230, '120 V mains');
  within(await watts(wave, { powerFactor: 0.9 }), expected * 0.9, 'power factor');
  within(await watts({ ...wave, hz: 60 }, { mainsHz: 60 }), expected, '60 Hz mains');
  // A wrong zero offset adds its square to the mean square: 100 counts off reads sqrt(1000²/2 + 100²).
  within(await watts(wave, { zeroCount: 1950 }), 0.02 * 230 * Math.sqrt(1000 ** 2 / 2 + 100 ** 2), 'zero offset 100 counts off');
  t.true((await watts({ ...wave, amplitude: 0 }, {})) < 1, 'no current, no power');
  // 10 A RMS through a 2000-turn clamp is 5 mA, 0.165 V RMS on 33 ohms: 204.8 counts RMS at 3.3 V over 12 bits.
  const circuit = validateConfig(
    rawMeterConfig(keys.publicKey, 'mqtt://127.0.0.1:1883', {
      sensor: { kind: 'ct-clamp', pin: 34, turns: 2000, burdenOhms: 33, adcFullScaleVolts: 3.3 },
    }),
  ).sensor as { ampsPerCount: number };
  within(
    await watts({ ...wave, amplitude: 204.8 * Math.SQRT2 }, { ampsPerCount: circuit.ampsPerCount }),
    2300,
    '10 A at 230 V from the circuit',
  );
});
