/**
 * Espruino bundles in a verifiable masked deployment (three custodians, n of n), each meter in two
 * groups: every report carries three authenticators, goes to both groups' aggregators and leaves
 * the outbox once both acknowledged it; each slot of each group decrypts exactly, the masks
 * removed only by the three custodians together. Then a meter's flash loses its last checkpoint
 * and outbox writes (a rollback to the middle of the last slot, the mask ledger kept): rebooted, it
 * measures that slot again with another value, and its ledger refuses to send it under the mask
 * already used, so the aggregators never see two values under one mask.
 */
import { householdTotals, sandboxedRoles } from './helpers/rig.ts';
import test from 'ava';
import { buildEspruinoScript } from '../../tools/espruino/build.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';

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
  const { clock, decrypted, boards, allDecrypted } = await sandboxedRoles(t, d, code, START, 3);
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

  await allDecrypted(START + SLOTS * SLOT_MS, 2 * SLOTS);
  const expected = householdTotals(members, { startMs: START, sampleMs: SAMPLE_MS, slotMs: SLOT_MS, readings: READINGS, slots: SLOTS });
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
