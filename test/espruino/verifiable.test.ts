/**
 * Espruino bundles in a verifiable masked deployment (three custodians, n of n), each meter in two
 * groups: every report carries three authenticators, goes to both groups' aggregators and leaves
 * the outbox once both acknowledged it; each slot of each group decrypts exactly, the masks
 * removed only by the three custodians together. Then a meter's flash loses its last checkpoint
 * and outbox writes (a rollback to the middle of the last slot, the mask ledger kept): rebooted, it
 * measures that slot again with another value, and its ledger refuses to send it under the mask
 * already used, so the aggregators never see two values under one mask.
 */
import test from 'ava';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { runAggregator } from '../../host/aggregator/run.ts';
import { runMaskedCustodian } from '../../host/custodian/run.ts';
import { householdOf } from '../../host/feeder/households.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { buildEspruinoScript } from '../../tools/espruino/build.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { expectedReadings } from '../firmware/helpers/expected.ts';
import { EspruinoBoards } from './helpers/boards.ts';

const START = Date.UTC(2026, 5, 3, 6, 0, 0);
const SLOT_MS = 900_000;
const SLOTS = 12;
const READINGS = 3;
const SAMPLE_MS = 60_000;

test('verifiable masked, 3 of 3, meters in two groups: both groups exact per slot; a flash rolled back inside a reported slot cannot send it again', async (t) => {
  t.timeout(120_000, 'twelve slots in virtual time with three custodians');
  const code = await buildEspruinoScript('linux');
  const members = ids('ev', 3);
  const d = await deploy({
    groups: [
      { id: 'north', members, feeder: 'feeder-north', k: 2 },
      { id: 'south', members, feeder: 'feeder-south', k: 2 },
    ],
    masked: { custodians: 3, timeoutMs: 3000, retryMs: 1000 },
    extra: {
      slotSeconds: 900,
      latenessSeconds: 60,
      skewSeconds: 30,
      packing: { readings: READINGS, maxGroupSize: 100, maxPowerWatts: 23_000 },
    },
  });
  t.teardown(() => d.cleanup());
  const clock = new VirtualClock(START);
  const now = () => clock.now();
  for (const index of [1, 2, 3]) {
    const custodian = await runMaskedCustodian(d.config, index, { now });
    t.teardown(() => custodian.stop());
  }
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { now, onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  for (const groupId of ['north', 'south']) {
    const aggregator = await runAggregator(d.config, groupId, { now });
    t.teardown(() => aggregator.stop());
  }
  const boards = new EspruinoBoards(code, clock);
  t.teardown(() => boards.close());
  for (const meterId of members) boards.add(d, meterId, { sampleMs: SAMPLE_MS, checkpointSeconds: 60, ackTimeoutSeconds: 120 });
  await boards.connected();

  let snapshot = new Map<string, string>();
  for (let k = 1; k <= SLOTS; k++) {
    if (k === SLOTS) {
      clock.advanceTo(START + (k - 1) * SLOT_MS + SLOT_MS / 2);
      snapshot = new Map(boards.files(members[0]));
    }
    await boards.advanceTo(START + k * SLOT_MS, k);
  }
  t.is(boards.stats(members[0]).publishes, 2 * SLOTS, 'each report once to each group');

  // The flash loses the checkpoint and outbox writes since the middle of the last slot; the ledger stays.
  await boards.reboot(members[0], (files) => {
    for (const name of [...files.keys()]) if (name.startsWith('mvob.') || name === 'mvmt.ck') files.delete(name);
    for (const [name, data] of snapshot) if (name.startsWith('mvob.') || name === 'mvmt.ck') files.set(name, data);
  });
  const rebooted = boards.stats(members[0]);
  t.is(rebooted.masksRefused, 1, 'the slot measured again is refused by the ledger');
  t.is(rebooted.reportsCreated, 0);
  t.is(rebooted.publishes, 0);
  t.true(boards.logs.some((line) => line.includes('mask-already-used')));

  clock.advanceTo(START + SLOTS * SLOT_MS + 120_000);
  await until(
    () => decrypted.length === 2 * SLOTS,
    'every slot of both groups to be decrypted',
    20_000,
    () => ` (${decrypted.length} so far)`,
  );
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
  for (const groupId of ['north', 'south']) {
    const slots = decrypted.filter((x) => x.groupId === groupId).sort((a, b) => a.slot - b.slot);
    t.deepEqual(
      slots.map((x) => x.slot),
      expected.map((_, k) => START / SLOT_MS + k),
    );
    t.deepEqual(
      slots.map((x) => x.total),
      expected,
      `group ${groupId}`,
    );
    t.true(slots.every((x) => x.count === 3));
  }
});
