/** `meterveil policy check` and `meterveil provision` as an operator runs them: real processes, real files. */
import test from 'ava';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoConfig } from '../../host/start/demo-config.ts';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'meterveil-policy-'));

const cli = (...args: string[]) => runCli(args);

let files = 0;
function file(content: unknown): string {
  const path = join(dir, `input-${++files}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const ids = (prefix: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);
const eight = { groups: [{ id: 'street', members: ids('m', 1, 8), feeder: 'feeder-street', k: 5 }] };

test('the demo layout passes: exit 0 and one line saying so', async (t) => {
  const r = await cli('policy', 'check', '--config', file(demoConfig()));
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'ok: nothing disclosed below k by 3 group(s) of 55 meters');
});

test('a layout whose groups overlap in fewer than k meters: exit 1, one line per cell with reason, meters and k', async (t) => {
  const config = file({
    groups: [
      { id: 'A', members: ['a1', ...ids('m', 1, 4), ...ids('p', 1, 5)], feeder: 'feeder-a', k: 5 },
      { id: 'B', members: ['b2', ...ids('m', 1, 4), ...ids('q', 1, 5)], feeder: 'feeder-b', k: 5 },
    ],
  });
  const r = await cli('policy', 'check', '--config', config);
  t.is(r.code, 1, r.stderr);
  t.deepEqual(r.stdout.split('\n'), [
    'cell-below-k: layout with every member reporting: cell of 4 meter(s) m1,m2,m3,m4 is below k = 5 (group A)',
  ]);
});

test('given slots: seven of eight members reporting names the missing meter; a full slot and a short one of k are fine', async (t) => {
  const slots = file({
    slots: [
      { slot: 100, sets: [{ group: 'street', contributors: ids('m', 1, 8) }] },
      { slot: 101, sets: [{ group: 'street', contributors: ids('m', 1, 7) }] },
    ],
  });
  const r = await cli('policy', 'check', '--config', file(eight), '--slots', slots);
  t.is(r.code, 1, r.stderr);
  t.deepEqual(r.stdout.split('\n'), ['feeder-complement-below-k: slot 101: cell of 1 meter(s) m8 is below k = 5 (group street)']);

  const fine = file({ slots: [{ slot: 7, sets: [{ group: 'street', contributors: ids('m', 1, 8) }] }] });
  const ok = await cli('policy', 'check', '--config', file(eight), '--slots', fine);
  t.is(ok.code, 0, ok.stdout);
  t.is(ok.stdout, 'ok: nothing disclosed below k by 1 group(s) of 8 meters and 1 slot(s)');
});

test('given slots: two aggregates differencing down to one meter each are named, the sets of one slot are not counted in another', async (t) => {
  const config = file({
    groups: [
      { id: 'A', members: ['a1', ...ids('m', 1, 5), ...ids('p', 1, 5)], feeder: 'feeder-a', k: 5 },
      { id: 'B', members: ['b2', ...ids('m', 1, 5), ...ids('q', 1, 5)], feeder: 'feeder-b', k: 5 },
    ],
  });
  const slots = file({
    slots: [
      {
        slot: 5,
        sets: [
          { group: 'B', contributors: [...ids('m', 1, 5), 'b2'] },
          { group: 'A', contributors: ['a1', ...ids('m', 1, 5)] },
        ],
      },
      { slot: 6, sets: [{ group: 'A', contributors: ['a1', ...ids('m', 1, 5), ...ids('p', 1, 5)] }] },
    ],
  });
  const r = await cli('policy', 'check', '--config', config, '--slots', slots);
  t.is(r.code, 1, r.stderr);
  const lines = r.stdout.split('\n');
  t.true(
    lines.every((l) =>
      /^(cell-below-k|feeder-complement-below-k): slot [56]: cell of \d+ meter\(s\) \S+ is below k = 5 \(group [AB]\)$/.test(l),
    ),
    r.stdout,
  );
  t.true(lines.includes('cell-below-k: slot 5: cell of 1 meter(s) a1 is below k = 5 (group A)'), r.stdout);
  t.true(lines.includes('cell-below-k: slot 5: cell of 1 meter(s) b2 is below k = 5 (group B)'), r.stdout);
  // Slot 6 alone, all of A reporting, discloses nothing: slot 5's sets are not known in slot 6.
  t.false(
    lines.some((l) => l.includes('slot 6')),
    r.stdout,
  );
});

test('malformed inputs: exit 2 and one line naming what is wrong', async (t) => {
  const config = file(eight);
  const slots = (content: unknown) => ['policy', 'check', '--config', config, '--slots', file(content)];
  const cases: [string[], RegExp][] = [
    [['policy', 'check', '--config', join(dir, 'absent.json')], /^meterveil: config-unreadable: /],
    [['policy', 'check', '--config', file('{"groups": [')], /^meterveil: bad-config: .* is not valid JSON/],
    [
      ['policy', 'check', '--config', file({ groups: eight.groups, colour: 'red' })],
      /^meterveil: bad-config: config: unknown key "colour"/,
    ],
    [['policy', 'check', '--config', config, '--slots', join(dir, 'absent.json')], /^meterveil: bad-slots: cannot read /],
    [slots('[1, 2'), /^meterveil: bad-slots: cannot read .* as JSON/],
    [slots({ slots: [{ slot: -1, sets: [] }] }), /^meterveil: bad-slots: slots\[0\]\.slot must be a non-negative integer/],
    [slots({ slots: [{ slot: 1, sets: [{ group: 'other', contributors: ['m1'] }] }] }), /^meterveil: unknown-group: slot 1: sets\[0\]/],
    [
      slots({ slots: [{ slot: 1, sets: [{ group: 'street', contributors: ['m9'] }] }] }),
      /^meterveil: unknown-contributor: .*"m9" is not a member of street/,
    ],
    [slots({ slots: [{ slot: 1, sets: [{ group: 'street', contributors: ['m1', 'm1'] }] }] }), /^meterveil: bad-slots: .*listed twice/],
    [slots({ slots: [{ slot: 1, sets: [], extra: true }] }), /^meterveil: bad-slots: slots\[0\]: unknown key "extra"/],
    [
      slots({
        slots: [
          { slot: 1, sets: [] },
          { slot: 1, sets: [] },
        ],
      }),
      /^meterveil: bad-slots: a slot is listed twice/,
    ],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(...args)));
  for (const [i, [args, pattern]] of cases.entries()) {
    const r = results[i];
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, pattern);
    t.is(r.stderr.split('\n').length, 1, r.stderr);
    t.is(r.stdout, '');
  }
});

test('provision refuses a layout the check refuses, before writing anything; a layout that passes goes on to its keys', async (t) => {
  const disclosing = file({
    groups: [
      { id: 'big', members: ids('m', 1, 10), feeder: 'feeder-big', k: 10 },
      { id: 'small', members: ids('m', 1, 7), feeder: 'feeder-small', k: 2 },
    ],
  });
  const check = await cli('policy', 'check', '--config', disclosing);
  t.is(check.code, 1);
  t.is(check.stdout.split('\n').length, 2);
  const out = join(dir, 'refused-out');
  const refused = await cli('provision', '--config', disclosing, '--out', out);
  t.is(refused.code, 1);
  t.regex(
    refused.stderr,
    /^meterveil: cell-below-k: the layout with every member reporting: cell of 7 meter\(s\) m1,m2,m3,m4,m5,m6,m7 is below k = 10 \(group big\), and 1 more cell\(s\)/,
  );
  t.false(existsSync(out));
  // No key exists beside this config: getting as far as the key shows the layout itself was accepted.
  const passing = await cli('provision', '--config', file(eight), '--out', join(dir, 'passing-out'));
  t.is(passing.code, 1);
  t.regex(passing.stderr, /^meterveil: key-file-unreadable: /);
});
