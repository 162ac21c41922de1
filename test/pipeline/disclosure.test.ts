/** The disclosure rule (host/policy/disclosure.ts): the attack shapes, and a search of every combination. */
import test from 'ava';
import fc from 'fast-check';
import { DisclosureRule, type ContributorSet, type LayoutGroup } from '../../host/policy/disclosure.ts';

const ids = (prefix: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);
const reasons = (rule: DisclosureRule, sets: ContributorSet[]) =>
  rule.violations(sets).map((v) => `${v.reason} ${v.cell.join(',')} k=${v.k}`);

test('a group with one member missing gives that member away through its feeder', (t) => {
  const members = ids('m', 1, 8);
  const rule = new DisclosureRule([{ id: 'g', members, k: 5 }]);
  t.deepEqual(reasons(rule, [{ group: 'g', contributors: members.slice(0, 7) }]), ['feeder-complement-below-k m8 k=5']);
  t.deepEqual(reasons(rule, [{ group: 'g', contributors: members }]), []);
  t.deepEqual(reasons(rule, []), [], 'the feeder reading alone is a total of eight');
});

test('the feeder complement is allowed once it holds k meters, and the contributors must too', (t) => {
  const members = ids('m', 1, 10);
  const rule = new DisclosureRule([{ id: 'g', members, k: 5 }]);
  t.deepEqual(reasons(rule, [{ group: 'g', contributors: members.slice(0, 5) }]), []);
  t.deepEqual(reasons(rule, [{ group: 'g', contributors: members.slice(0, 6) }]), ['feeder-complement-below-k m10,m7,m8,m9 k=5']);
  t.deepEqual(reasons(rule, [{ group: 'g', contributors: members.slice(0, 4) }]), ['cell-below-k m1,m2,m3,m4 k=5']);
});

// Attack 3, first shape: two groups of five sharing four meters. Their totals differ by a1 - b2,
// whatever the ids are called and however they sort.
for (const [a, b, shared] of [
  ['a1', 'b2', 'm'],
  ['z1', 'b2', 'm'],
  ['a1', 'z2', 'c'],
  ['m0', 'm9', 'm'],
]) {
  test(`{${a}, ${shared}1..4} against {${b}, ${shared}1..4} with k = 5 is refused in either order`, (t) => {
    const common = ids(shared, 1, 4);
    const layout = [
      { id: 'A', members: [a, ...common, ...ids('p', 1, 5)], k: 5 },
      { id: 'B', members: [b, ...common, ...ids('q', 1, 5)], k: 5 },
    ];
    const first = { group: 'A', contributors: [a, ...common] };
    const second = { group: 'B', contributors: [...common, b] };
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      const found = new DisclosureRule(layout).violations(order);
      t.true(
        found.some((v) => v.cell.length === 1 && v.cell[0] === a),
        JSON.stringify(found),
      );
      t.true(found.some((v) => v.cell.length === 1 && v.cell[0] === b));
    }
    // Without any aggregate, the layout alone already splits the four shared meters off.
    t.deepEqual(
      new DisclosureRule(layout).layoutViolations().map((v) => v.cell.join(',')),
      [common.join(',')],
    );
  });
}

test('three aggregates whose combination is a sum of two meters (a1 + b2) are refused', (t) => {
  const layout: LayoutGroup[] = [
    { id: 'A', members: ['a1', ...ids('m', 1, 4), ...ids('p', 1, 5)], k: 5 },
    { id: 'B', members: ['b2', ...ids('n', 1, 4), ...ids('q', 1, 5)], k: 5 },
    { id: 'C', members: [...ids('m', 1, 4), ...ids('n', 1, 4), ...ids('r', 1, 5)], k: 5 },
  ];
  // S1 + S2 - S3 = a1 + b2.
  const sets = [
    { group: 'A', contributors: ['a1', ...ids('m', 1, 4)] },
    { group: 'B', contributors: ['b2', ...ids('n', 1, 4)] },
    { group: 'C', contributors: [...ids('m', 1, 4), ...ids('n', 1, 4)] },
  ];
  for (const order of [sets, [sets[2], sets[0], sets[1]], [sets[1], sets[2], sets[0]]]) {
    const cells = new DisclosureRule(layout).violations(order).map((v) => v.cell.join(','));
    t.true(cells.includes('a1') && cells.includes('b2'), cells.join(' | '));
  }
});

test("a group with k = 2 cannot difference a group with k = 10: every cell of the k = 10 group's meters needs 10", (t) => {
  const big = ids('m', 1, 10);
  const layout = [
    { id: 'big', members: big, k: 10 },
    { id: 'small', members: big.slice(0, 7), k: 2 },
  ];
  const found = new DisclosureRule(layout).violations([
    { group: 'big', contributors: big },
    { group: 'small', contributors: big.slice(0, 7) },
  ]);
  t.deepEqual(
    found.map((v) => [v.cell.length, v.k, v.group]),
    [
      [7, 10, 'big'],
      [3, 10, 'big'],
    ],
  );
  t.is(new DisclosureRule(layout).layoutViolations().length, 2, 'the layout itself is refused');
});

test('disjoint groups, and overlaps of at least k in every cell, are allowed', (t) => {
  const layout = [
    { id: 'north', members: ids('m', 1, 20), k: 5 },
    { id: 'south', members: ids('m', 16, 35), k: 5 },
    { id: 'east', members: ids('m', 36, 55), k: 5 },
  ];
  const rule = new DisclosureRule(layout);
  t.deepEqual(rule.layoutViolations(), []);
  t.deepEqual(rule.violations([{ group: 'north', contributors: ids('m', 1, 20) }]), []);
});

test('contributors outside the layout and unknown groups are errors, not silent passes', (t) => {
  const rule = new DisclosureRule([{ id: 'g', members: ids('m', 1, 5), k: 2 }]);
  t.is(t.throws(() => rule.violations([{ group: 'g', contributors: ['x9'] }]))?.message.split(':')[0], 'unknown-contributor');
  t.is(t.throws(() => rule.violations([{ group: 'h', contributors: ['m1'] }]))?.message.split(':')[0], 'unknown-group');
});

// ---- The rule against a search of every rational combination ---------------------------------
//
// The known totals are the rows of a 0/1 matrix A (one row per known set, one column per meter).
// Every combination of them is a vector of A's row space over the rationals. For a set T of
// meters, the combinations supported within T are the c^T A with c^T A_(not T) = 0; they form a
// space of dimension d(T) = rank(A) - rank(A restricted to the columns outside T). A combination
// whose support is exactly T exists if and only if d(T) > d(T minus j) for every meter j in T
// (a vector space over an infinite field is not the union of finitely many proper subspaces, and
// d(T) = d(T minus j) means that every combination within T is zero at j). With at most eight
// meters, every T is tried, and ranks are exact (BigInt elimination). The search is thus sound and
// complete: it finds every support that any combination, with any rational coefficients, has.

function rank(rows: bigint[][]): number {
  const m = rows.map((r) => r.slice());
  const columns = m[0]?.length ?? 0;
  let r = 0;
  for (let col = 0; col < columns && r < m.length; col++) {
    const pivot = m.findIndex((row, i) => i >= r && row[col] !== 0n);
    if (pivot < 0) continue;
    [m[r], m[pivot]] = [m[pivot], m[r]];
    for (let i = r + 1; i < m.length; i++) {
      const f = m[i][col];
      if (f === 0n) continue;
      const p = m[r][col];
      m[i] = m[i].map((v, j) => v * p - m[r][j] * f);
    }
    r++;
  }
  return r;
}

/** Every support (set of meter indices, as a bit mask) that some non-zero combination of the rows has. */
function supports(rows: bigint[][], meters: number): number[] {
  const full = rank(rows);
  const d = (mask: number) => full - rank(rows.map((row) => row.filter((_, j) => !(mask & (1 << j)))));
  const found: number[] = [];
  for (let mask = 1; mask < 1 << meters; mask++) {
    const dim = d(mask);
    if (dim === 0) continue;
    let exact = true;
    for (let j = 0; j < meters && exact; j++) if (mask & (1 << j) && d(mask & ~(1 << j)) === dim) exact = false;
    if (exact) found.push(mask);
  }
  return found;
}

const layouts = fc.integer({ min: 2, max: 8 }).chain((n) => {
  const meters = ids('m', 1, n);
  const group = fc
    .subarray(meters, { minLength: 2 })
    .chain((members) => fc.record({ members: fc.constant(members), k: fc.integer({ min: 2, max: Math.min(4, members.length) }) }));
  return fc.array(group, { minLength: 1, maxLength: 3 }).chain((groups) => {
    const layout = groups.map((g, i) => ({ id: `g${i}`, ...g }));
    const set = fc
      .integer({ min: 0, max: layout.length - 1 })
      .chain((i) => fc.record({ group: fc.constant(layout[i].id), contributors: fc.subarray(layout[i].members, { minLength: 1 }) }));
    return fc.record({ meters: fc.constant(meters), layout: fc.constant(layout), sets: fc.array(set, { maxLength: 4 }) });
  });
});

test('fast property (at most eight meters): when the rule allows a release, no rational combination of the known totals has a support below k', (t) => {
  let allowed = 0;
  let refused = 0;
  fc.assert(
    fc.property(layouts, ({ meters, layout, sets }) => {
      const violations = new DisclosureRule(layout).violations(sets);
      const known = [...layout.map((g) => g.members), ...sets.map((s) => s.contributors)];
      const rows = known.map((set) => meters.map((m) => (set.includes(m) ? 1n : 0n)));
      const kOf = (j: number) => Math.max(0, ...layout.filter((g) => g.members.includes(meters[j])).map((g) => g.k));
      const tooSmall = supports(rows, meters.length).filter((mask) => {
        const inSupport = meters.map((_, j) => j).filter((j) => mask & (1 << j));
        return inSupport.length < Math.max(...inSupport.map(kOf));
      });
      if (violations.length === 0) {
        allowed++;
        return tooSmall.length === 0;
      }
      refused++;
      // A refusal names a cell that really is below its k.
      return violations.every((v) => v.cell.length < v.k && v.cell.length > 0);
    }),
    { numRuns: 400 },
  );
  // Both outcomes must occur often enough for the property to mean something.
  t.true(allowed >= 20, `allowed ${allowed}`);
  t.true(refused >= 20, `refused ${refused}`);
});

test('fast property: the verdict depends neither on the order of the sets nor on how meter ids sort', (t) => {
  fc.assert(
    fc.property(layouts, fc.integer(), ({ meters, layout, sets }, seed) => {
      // A renaming that reverses the sort order, and the sets in reverse.
      const rename = new Map(meters.map((m, i) => [m, `x${String(100 - i - (seed & 1)).padStart(3, '0')}`]));
      const renamed = (list: readonly string[]) => list.map((m) => rename.get(m)!);
      const before = new DisclosureRule(layout).violations(sets);
      const after = new DisclosureRule(layout.map((g) => ({ ...g, members: renamed(g.members) }))).violations(
        [...sets].reverse().map((s) => ({ group: s.group, contributors: renamed(s.contributors) })),
      );
      const key = (v: { reason: string; cell: string[]; k: number }) => `${v.reason} ${[...v.cell].sort().join(',')} ${v.k}`;
      t.deepEqual(after.map(key).sort(), before.map((v) => key({ ...v, cell: renamed(v.cell) })).sort());
    }),
    { numRuns: 200 },
  );
});
