/**
 * The masked packing without BigInt (firmware/masked/layout.ts), which Espruino meters run, against
 * the BigInt packing the host and the Moddable meters use: the same slot width and value width for
 * any configuration the schema accepts, the same bytes for any readings, and the same refusals.
 */
import test from 'ava';
import fc from 'fast-check';
import { bigIntToBytes } from '../../firmware/bytes.ts';
import { PACKING_LIMITS } from '../../firmware/config/packing.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { maskedLayoutFor, packReadings, productBitLength } from '../../firmware/masked/layout.ts';
import { maskedPackingFor, maskedParamsOf } from '../../firmware/masked/params.ts';

const DIVISORS_OF_A_DAY = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];

const packingArb = fc.record({
  slotSeconds: fc.constantFrom(...DIVISORS_OF_A_DAY),
  readings: fc.constantFrom(1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 16, 20, 30, 60),
  maxGroupSize: fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: PACKING_LIMITS.maxGroupSize.max })),
  maxPowerWatts: fc.integer({ min: PACKING_LIMITS.maxPowerWatts.min, max: PACKING_LIMITS.maxPowerWatts.max }),
});

function reasonOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof MeterveilError) return e.reason;
    throw e;
  }
}

test('productBitLength is the bit length of the exact product of two 32-bit integers', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (a, b) => {
      t.is(productBitLength(a, b), (BigInt(a) * BigInt(b)).toString(2).replace(/^0$/, '').length);
    }),
    { numRuns: 500 },
  );
});

test('maskedLayoutFor derives the widths maskedPackingFor and maskedParamsOf do, and refuses what they refuse', (t) => {
  fc.assert(
    fc.property(packingArb, ({ slotSeconds, ...packing }) => {
      const bigReason = reasonOf(() => maskedParamsOf(maskedPackingFor(slotSeconds, packing)));
      t.is(
        reasonOf(() => maskedLayoutFor(slotSeconds, packing)),
        bigReason,
      );
      if (bigReason) return;
      const reference = maskedPackingFor(slotSeconds, packing);
      const layout = maskedLayoutFor(slotSeconds, packing);
      t.deepEqual(
        { slotBits: layout.slotBits, readings: layout.readings, maxReading: BigInt(layout.maxReading), ...maskedParamsOf(reference) },
        {
          slotBits: reference.slotBits,
          readings: reference.readings,
          maxReading: reference.maxReading,
          bits: layout.bits,
          bytes: layout.bytes,
        },
      );
    }),
    { numRuns: 300 },
  );
});

test('packReadings gives the bytes of the BigInt packing for any readings up to the largest, and refuses a reading above it', (t) => {
  const accepted = packingArb.filter(({ slotSeconds, ...packing }) => reasonOf(() => maskedLayoutFor(slotSeconds, packing)) === undefined);
  fc.assert(
    fc.property(
      accepted.chain(({ slotSeconds, ...packing }) => {
        const layout = maskedLayoutFor(slotSeconds, packing);
        const reading = fc.oneof(fc.constant(0), fc.constant(layout.maxReading), fc.integer({ min: 0, max: layout.maxReading }));
        return fc.tuple(
          fc.constant({ slotSeconds, packing }),
          fc.array(reading, { minLength: layout.readings, maxLength: layout.readings }),
        );
      }),
      ([{ slotSeconds, packing }, readings]) => {
        const layout = maskedLayoutFor(slotSeconds, packing);
        const reference = maskedPackingFor(slotSeconds, packing);
        t.deepEqual(packReadings(readings, layout), bigIntToBytes(reference.pack(readings.map(BigInt)), layout.bytes));
      },
    ),
    { numRuns: 300 },
  );
  const layout = maskedLayoutFor(900, { readings: 3, maxGroupSize: 100, maxPowerWatts: 23_000 });
  t.is(
    reasonOf(() => packReadings([0, layout.maxReading + 1, 0], layout)),
    'reading-out-of-range',
  );
  t.is(
    reasonOf(() => packReadings([0, 1.5, 0], layout)),
    'reading-out-of-range',
  );
  t.is(
    reasonOf(() => packReadings([0, 0], layout)),
    'wrong-reading-count',
  );
});
