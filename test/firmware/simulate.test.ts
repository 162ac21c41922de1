/** The fleet simulation end to end: several XS workers, generated households, the embedded broker. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runSimulation } from '../../host/simulate/simulation.ts';

test('three meters over two workers report every slot of two hours and drain their outboxes', async (t) => {
  const summary = await runSimulation({ meters: 3, hours: 2, metersPerWorker: 2, startMs: Date.UTC(2026, 11, 24) });
  t.is(summary.workers, 2);
  t.deepEqual(
    summary.meters.map((m) => [m.reports, m.acknowledged, m.outboxHeld, m.poolDry]),
    [
      [8, 8, 0, 0],
      [8, 8, 0, 0],
      [8, 8, 0, 0],
    ],
  );
  t.is(summary.reportsReceived, 24);
  t.true(summary.meters.every((m) => m.computronsPerSlot > 0));
  t.true(summary.peakLiveSlots > 0);
});

test('the simulate command prints computrons per slot and the peak live slots', async (t) => {
  const { stdout } = await promisify(execFile)(
    'node',
    ['bin/meterveil.js', 'simulate', '--meters', '1', '--hours', '1', '--start', '2026-03-01T00:00:00Z'],
    {
      cwd: new URL('../..', import.meta.url).pathname,
    },
  );
  t.regex(stdout, /sim-meter-0001\s+4\s+4\s+\d+/);
  t.regex(stdout, /peak live XS slots \(largest worker\): \d+/);
});

test('the simulate command refuses a bad meter count', async (t) => {
  const error = await t.throwsAsync(
    promisify(execFile)('node', ['bin/meterveil.js', 'simulate', '--meters', '0'], { cwd: new URL('../..', import.meta.url).pathname }),
  );
  t.regex((error as any).stderr, /--meters must be a positive integer/);
});
