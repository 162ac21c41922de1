import test from 'ava';
import fc from 'fast-check';
import { checkDifferencing } from '../../host/policy/decryption-policy.ts';
import { analyseSpan } from '../../host/policy/span.ts';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => `m${a + i}`);

test('two groups differing by one meter expose that meter', (t) => {
  t.deepEqual(analyseSpan([range(1, 20), range(1, 19)]).exposedMeters, ['m20']);
  t.is(checkDifferencing(range(1, 19), [range(1, 20)], 5)?.reason, 'differencing');
});

test('exposure through three overlapping groups is found (A + B - C = one meter)', (t) => {
  // A = {1..10}, B = {11..20}, C = {2..20}: A + B - C = m1
  t.deepEqual(analyseSpan([range(1, 10), range(11, 20), range(2, 20)]).exposedMeters, ['m1']);
  t.is(checkDifferencing(range(2, 20), [range(1, 10), range(11, 20)], 5)?.reason, 'differencing');
});

test('disjoint groups and groups overlapping in many meters are accepted', (t) => {
  t.is(checkDifferencing(range(21, 40), [range(1, 20)], 5), undefined);
  t.is(checkDifferencing(range(11, 30), [range(1, 20)], 5), undefined);
  t.is(checkDifferencing(range(1, 20), [], 5), undefined);
});

test('a difference of fewer than k meters is refused even if no single meter is exposed', (t) => {
  t.is(checkDifferencing(range(1, 17), [range(1, 20)], 5)?.reason, 'differencing');
  t.is(checkDifferencing(range(1, 15), [range(1, 20)], 5), undefined);
});

test('fast property (small sets): every exposure that a brute-force search over coefficients -1, 0, 1 finds is reported', (t) => {
  fc.assert(
    fc.property(fc.array(fc.subarray(range(1, 5), { minLength: 1 }), { minLength: 1, maxLength: 3 }), (sets) => {
      const { exposedMeters } = analyseSpan(sets);
      const meters = [...new Set(sets.flat())].sort();
      for (const coeffs of combinations(sets.length, [-1, 0, 1])) {
        const v = new Map<string, number>();
        sets.forEach((s, i) => s.forEach((m) => v.set(m, (v.get(m) ?? 0) + coeffs[i])));
        const nonzero = meters.filter((m) => (v.get(m) ?? 0) !== 0);
        if (nonzero.length === 1 && v.get(nonzero[0]) === 1) t.true(exposedMeters.includes(nonzero[0]), JSON.stringify({ sets, coeffs }));
      }
      for (const m of exposedMeters) t.true(meters.includes(m));
    }),
    { numRuns: 300 },
  );
});

function* combinations(n: number, values: number[]): Generator<number[]> {
  if (n === 0) return yield [];
  for (const rest of combinations(n - 1, values)) for (const v of values) yield [...rest, v];
}
