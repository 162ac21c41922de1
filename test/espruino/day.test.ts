/**
 * The Espruino bundle (tools/espruino/build.ts) through a simulated day: four meters, each its own
 * sandboxed board (tools/espruino/sandbox.ts: no BigInt, Map, Set, Symbol, Proxy, Reflect,
 * WeakMap, only the built-ins Espruino has), run the ES5 script on a virtual clock against the
 * real embedded broker, the real aggregator and the real provider of a masked deployment, which
 * run on the same clock. 96 slots of 15 minutes, three readings each; one meter reboots inside a
 * slot. Every slot decrypts to exactly the energy the four simulated households drew in it.
 */
import { householdTotals, sandboxedRoles } from './helpers/rig.ts';
import test from 'ava';
import { buildEspruinoScript } from '../../tools/espruino/build.ts';
import { checkEspruinoBundle } from '../../tools/espruino/check.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';

const START = Date.UTC(2026, 2, 14, 0, 0, 0); // a Saturday: the H25 profile's weekend curve
const SLOT_SECONDS = 900;
const SLOT_MS = SLOT_SECONDS * 1000;
const SLOTS = 96;
const READINGS = 3;
const SAMPLE_MS = 60_000;

test('four Espruino bundles through a day on the real aggregator and provider: every slot exact, a reboot inside a slot included', async (t) => {
  t.timeout(120_000, 'a day of 96 slots in virtual time, each waiting for the real acknowledgements');
  const code = await buildEspruinoScript('linux');
  t.deepEqual(checkEspruinoBundle(code), []);

  const members = ids('es', 4);
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 3 }],
    masked: {},
    extra: {
      slotSeconds: SLOT_SECONDS,
      latenessSeconds: 60,
      skewSeconds: 30,
      packing: { readings: READINGS, maxGroupSize: 100, maxPowerWatts: 23_000 },
    },
  });
  t.teardown(() => d.cleanup());
  const { clock, decrypted, boards, allDecrypted } = await sandboxedRoles(t, d, code, START);
  for (const meterId of members) boards.add(d, meterId, { sampleMs: SAMPLE_MS, checkpointSeconds: 60, ackTimeoutSeconds: 120 });
  // What the boards lack, as Espruino does: the bundle runs without any of it (and with the prelude's polyfills).
  t.is(
    boards.run(
      members[1],
      '[typeof BigInt, typeof Map, typeof Set, typeof Symbol, typeof Proxy, typeof Reflect, typeof WeakMap, typeof Uint8Array.from, typeof Array.from, typeof Math.trunc, typeof Object.freeze, typeof [].flat, typeof "".at, typeof new ArrayBuffer(1).slice, Array.isArray(new Uint8Array(2).slice())].join()',
    ),
    'undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,true',
  );
  // The board's setInterval runs on the virtual clock too (the meter itself uses timeouts only).
  boards.run(members[2], 'var ticks = 0; var tick = setInterval(function () { if (++ticks === 3) clearInterval(tick); }, 1000);');
  clock.advanceTo(START + 5000);
  t.is(boards.run(members[2], 'ticks'), 3);
  await boards.connected();

  for (let k = 1; k <= SLOTS; k++) {
    // Meter 0 reboots in the middle of slot 48: a new board on the same flash files resumes it.
    if (k === 48) {
      clock.advanceTo(START + (k - 1) * SLOT_MS + SLOT_MS / 2);
      await boards.reboot(members[0]);
    }
    await boards.advanceTo(START + k * SLOT_MS, k);
  }
  // Past the last slot's watermark: the aggregator closes it, the provider unmasks it.
  await allDecrypted(START + SLOTS * SLOT_MS, SLOTS);

  const firstSlot = START / SLOT_MS;
  const expected = householdTotals(members, { startMs: START, sampleMs: SAMPLE_MS, slotMs: SLOT_MS, readings: READINGS, slots: SLOTS });
  const bySlot = [...decrypted].sort((a, b) => a.slot - b.slot);
  t.deepEqual(
    bySlot.map((x) => x.slot),
    expected.map((_, k) => firstSlot + k),
  );
  t.deepEqual(
    bySlot.map((x) => x.total),
    expected,
  );
  t.true(bySlot.every((x) => x.count === 4));
  const rebooted = boards.stats(members[0]);
  t.is(rebooted.masksRefused, 0);
  t.is(rebooted.slotsStartedMidSlot, 0, 'the reboot resumed its slot from the checkpoint');
  t.log(`bundle ${code.length} bytes; day total ${expected.reduce((a, b) => a + b, 0n)} mWh over ${SLOTS} slots`);
});
