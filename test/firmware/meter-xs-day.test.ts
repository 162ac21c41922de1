/**
 * A simulated day of the real firmware bundle inside XS (xsnap-worker), 1 s sampling, against a
 * real MQTT broker: every 15-minute slot is reported exactly once, each report decrypts to the
 * energy the household drew per minute, and the live XS slots at the end of the day are no
 * higher than after the first hour (no leak).
 */
import test from 'ava';
import { packingFor } from '../../firmware/meter/meter.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { expectedReadings } from './helpers/expected.ts';
import { advanceAndDrain, startXsMeter } from './helpers/fleet.ts';

const START = Date.UTC(2026, 2, 14, 0, 0, 0); // a Saturday in March: the profile's weekend curve
const SLOT_MS = 900_000;

test('a simulated day in XS: every slot once, each decrypting to the energy drawn, no slot leak', async (t) => {
  const { publicKey, privateKey } = testKeyPair();
  const { config, collector, fleet } = await startXsMeter(t, publicKey, START, { slotSeconds: 900, packing: { readings: 15 } });
  let slotsAfterFirstHour = 0;
  for (let k = 1; k <= 96; k++) {
    await advanceAndDrain(fleet, START + k * SLOT_MS);
    if (k === 4) slotsAfterFirstHour = await fleet.liveSlots();
  }
  const slotsAfterDay = await fleet.liveSlots();

  const reports = collector.distinct(config.meterId);
  const firstSlot = START / SLOT_MS;
  t.deepEqual(
    reports.map((r) => r.slot),
    Array.from({ length: 96 }, (_, k) => firstSlot + k),
    'each slot exactly once, in order',
  );
  t.is(new Set(collector.reports.map((r) => r.slot)).size, 96);
  t.true(reports.every((r) => r.packed === 15 && r.dropped === 0));

  const packing = packingFor(config);
  const decrypted = reports.flatMap((r) =>
    packing.unpack(privateKey.decrypt(ciphertextFromBytes(config.publicKey, r.ciphertext))).map(Number),
  );
  const expected = expectedReadings(config.sensor as any, { startMs: START, sampleMs: 1000, subSlotMs: 60_000, subSlots: 96 * 15 });
  t.deepEqual(decrypted, expected);

  const stats = await fleet.stats(config.meterId);
  t.is(stats.samples, 86_400);
  t.is(stats.reportsCreated, 96);
  t.is(stats.reportsAcknowledged, 96);
  t.is(stats.poolDry, 0);
  t.true(slotsAfterDay <= slotsAfterFirstHour, `live slots ${slotsAfterFirstHour} after an hour, ${slotsAfterDay} after a day`);
  t.log(`live XS slots: ${slotsAfterFirstHour} after 1 h, ${slotsAfterDay} after 24 h; computrons ${fleet.computrons(config.meterId)}`);
});
