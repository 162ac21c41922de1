/** The provider's decryption policy: membership and k (host/policy/decryption-policy.ts), then the disclosure rule with every feeder known. */
import test from 'ava';
import { checkMembership } from '../../host/policy/decryption-policy.ts';
import { DisclosureRule } from '../../host/policy/disclosure.ts';
import type { Aggregate } from '../../host/protocol/aggregate.ts';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => `m${a + i}`);
const aggregate = (contributors: string[]): Aggregate =>
  ({ groupId: 'g', slot: 1, keyId: 'k', packed: 1, contributors, count: contributors.length, ciphertext: new Uint8Array() }) as Aggregate;

test('contributors outside the group and fewer than k contributors are refused by name', (t) => {
  const group = { id: 'g', members: range(1, 10), feeder: 'f', k: 5 };
  t.is(checkMembership(aggregate(['m1', 'm2', 'm3', 'm4', 'x']), group)?.reason, 'unknown-contributor');
  t.is(checkMembership(aggregate(range(1, 4)), group)?.reason, 'below-k');
  t.is(checkMembership(aggregate(range(1, 5)), group), undefined);
});

test('two groups whose members differ by one meter: the layout itself gives it away through the feeders', (t) => {
  const rule = new DisclosureRule([
    { id: 'big', members: range(1, 20), k: 5 },
    { id: 'less', members: range(1, 19), k: 5 },
  ]);
  t.deepEqual(
    rule.layoutViolations().map((v) => [v.reason, v.cell]),
    [['cell-below-k', ['m20']]],
  );
  t.is(rule.refusal([{ group: 'big', contributors: range(1, 20) }])?.reason, 'cell-below-k');
});

test('within one group, a contributor set that differs from the whole by fewer than k is refused, by k or more is not', (t) => {
  const rule = new DisclosureRule([{ id: 'g', members: range(1, 20), k: 5 }]);
  t.is(rule.refusal([{ group: 'g', contributors: range(1, 17) }])?.reason, 'feeder-complement-below-k');
  t.is(rule.refusal([{ group: 'g', contributors: range(1, 15) }]), undefined);
  // Two aggregates of one slot (a key rotation's parts) each leave fewer than k out of the other.
  t.is(
    rule.refusal([
      { group: 'g', contributors: range(1, 15) },
      { group: 'g', contributors: range(16, 18) },
    ])?.reason,
    'cell-below-k',
  );
});

test('exposure through three overlapping aggregates is found (A + B - C = one meter)', (t) => {
  // A = {1..10}, B = {11..20}, C = {2..20}: A + B - C = m1
  const rule = new DisclosureRule([
    { id: 'A', members: range(1, 10), k: 5 },
    { id: 'B', members: range(11, 20), k: 5 },
    { id: 'C', members: range(1, 20), k: 5 },
  ]);
  const refusal = rule.refusal([
    { group: 'A', contributors: range(1, 10) },
    { group: 'B', contributors: range(11, 20) },
    { group: 'C', contributors: range(2, 20) },
  ]);
  // m1 is counted in A's total, so this is no feeder complement: A's and C's totals single it out.
  t.is(refusal?.reason, 'cell-below-k');
  t.regex(refusal!.detail, /cell of 1 meter\(s\) m1 is below k = 5 \(group A\)/);
});

test('disjoint groups, and groups overlapping in at least k with at least k outside, are allowed', (t) => {
  const rule = new DisclosureRule([
    { id: 'a', members: range(1, 20), k: 5 },
    { id: 'b', members: range(21, 40), k: 5 },
    { id: 'c', members: range(11, 30), k: 5 },
  ]);
  t.deepEqual(rule.layoutViolations(), []);
  t.is(rule.refusal([{ group: 'b', contributors: range(21, 40) }]), undefined);
  t.is(rule.refusal([]), undefined);
});
