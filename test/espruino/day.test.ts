/**
 * The Espruino bundle (tools/espruino/build.ts) through a simulated day: four meters, each its own
 * sandboxed board (tools/espruino/sandbox.ts: no BigInt, Map, Set, Symbol, Proxy, Reflect,
 * WeakMap, only the built-ins Espruino has), run the ES5 script on a virtual clock against the
 * real embedded broker, the real aggregator and the real provider of a masked deployment, which
 * run on the same clock. 96 slots of 15 minutes, three readings each; one meter reboots inside a
 * slot. Every slot decrypts to exactly the energy the four simulated households drew in it.
 */
import test from 'ava';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { runAggregator } from '../../host/aggregator/run.ts';
import { espruinoMeterConfig } from '../../host/provision/espruino.ts';
import { householdOf } from '../../host/feeder/households.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { buildEspruinoBundle } from '../../tools/espruino/build.ts';
import { checkEspruinoBundle } from '../../tools/espruino/check.ts';
import { espruinoBoard, type EspruinoBoard, type EspruinoFiles } from '../../tools/espruino/sandbox.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { expectedReadings } from '../firmware/helpers/expected.ts';

const START = Date.UTC(2026, 2, 14, 0, 0, 0); // a Saturday: the H25 profile's weekend curve
const SLOT_SECONDS = 900;
const SLOT_MS = SLOT_SECONDS * 1000;
const SLOTS = 96;
const READINGS = 3;
const SAMPLE_MS = 60_000;

interface Board {
  board: EspruinoBoard;
  files: EspruinoFiles;
}

test('four Espruino bundles through a day on the real aggregator and provider: every slot exact, a reboot inside a slot included', async (t) => {
  t.timeout(120_000, 'a day of 96 slots in virtual time, each waiting for the real acknowledgements');
  const { code } = await buildEspruinoBundle();
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
  const clock = new VirtualClock(START);
  const now = () => clock.now();
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { now, onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const aggregator = await runAggregator(d.config, 'street', { now });
  t.teardown(() => aggregator.stop());

  const logs: string[] = [];
  const boot = (meterId: string, files: EspruinoFiles): Board => {
    const board = espruinoBoard({ clock, files, log: (line) => logs.push(line) });
    board.run(code);
    return { board, files };
  };
  const boards = new Map<string, Board>();
  for (const meterId of members) {
    const files: EspruinoFiles = new Map();
    const config = espruinoMeterConfig(d.config, d.secrets, meterId, {
      sampleMs: SAMPLE_MS,
      checkpointSeconds: 60,
      ackTimeoutSeconds: 120,
    });
    files.set('meterveil.json', JSON.stringify(config));
    boards.set(meterId, boot(meterId, files));
  }
  t.teardown(async () => {
    for (const { board } of boards.values()) {
      board.run('meterveil && meterveil.stop()');
      await board.powerOff();
    }
  });
  // What the boards lack, as Espruino does: the bundle ran without any of it (and with the prelude's polyfills).
  t.is(
    boards
      .get(members[1])!
      .board.run(
        '[typeof BigInt, typeof Map, typeof Set, typeof Symbol, typeof Proxy, typeof Reflect, typeof WeakMap, typeof Uint8Array.from, typeof Array.from, typeof Math.trunc, typeof Object.freeze, typeof [].flat, typeof "".at, typeof new ArrayBuffer(1).slice, Array.isArray(new Uint8Array(2).slice())].join()',
      ),
    'undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,undefined,true',
  );
  const stats = (meterId: string) => boards.get(meterId)!.board.run('meterveil.stats()') as Record<string, any>;
  await until(
    () => members.every((m) => stats(m).connected),
    'the boards to connect',
    10_000,
    () => `\n${logs.join('\n')}`,
  );

  for (let k = 1; k <= SLOTS; k++) {
    if (k === 48) {
      // Meter 0 reboots in the middle of slot 48: a new board on the same flash files resumes it.
      clock.advanceTo(START + (k - 1) * SLOT_MS + SLOT_MS / 2);
      const old = boards.get(members[0])!;
      old.board.run('meterveil.stop()');
      await old.board.powerOff();
      boards.set(members[0], boot(members[0], old.files));
      await until(() => stats(members[0]).connected, 'the rebooted board to connect');
    }
    clock.advanceTo(START + k * SLOT_MS);
    await until(
      () => members.every((m) => stats(m).outboxSize === 0 && stats(m).reportsAcknowledged >= (m === members[0] && k >= 48 ? k - 47 : k)),
      `every report of slot ${k} to be acknowledged`,
      10_000,
      () => `\n${members.map((m) => JSON.stringify(stats(m))).join('\n')}\n${logs.slice(-10).join('\n')}`,
    );
  }
  // Past the last slot's watermark: the aggregator closes it, the provider unmasks it.
  clock.advanceTo(START + SLOTS * SLOT_MS + 120_000);
  await until(
    () => decrypted.length === SLOTS,
    'every slot to be decrypted',
    20_000,
    () => ` (${decrypted.length} so far)`,
  );

  const firstSlot = START / SLOT_MS;
  const expected = Array.from({ length: SLOTS }, () => 0n);
  for (const meterId of members) {
    const readings = expectedReadings(householdOf(meterId), {
      startMs: START,
      sampleMs: SAMPLE_MS,
      subSlotMs: SLOT_MS / READINGS,
      subSlots: SLOTS * READINGS,
    });
    readings.forEach((r, i) => (expected[Math.floor(i / READINGS)] += BigInt(r)));
  }
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
  const rebooted = stats(members[0]);
  t.is(rebooted.masksRefused, 0);
  t.is(rebooted.slotsStartedMidSlot, 0, 'the reboot resumed its slot from the checkpoint');
  t.log(`bundle ${code.length} bytes; day total ${expected.reduce((a, b) => a + b, 0n)} mWh over ${SLOTS} slots`);
});
