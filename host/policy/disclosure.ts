/**
 * The one disclosure rule: what the provider may decrypt and every custodian may help decrypt,
 * and what `meterveil policy check` and `provision` hold a deployment to before it runs.
 *
 * Whoever knows the totals of some sets of meters in one slot knows every rational combination of
 * those totals. Within a slot the known totals are the contributor sets decrypted or about to be
 * (each key part of a slot on its own) and every feeder's member set: a feeder reading is the
 * total of all its group's members. These sets split the meters into cells, the meters that lie in
 * exactly the same sets. A combination of the sets gives each meter of a cell the same
 * coefficient, so its support is a union of whole cells. The rule allows a release only if every
 * non-empty cell has at least as many meters as the largest k of any group that contains them;
 * then no combination involves fewer meters than the k of any meter in it, whatever order the
 * sets arrive in or the meters sort in, however many aggregates are combined.
 *
 * The rule is conservative: two overlapping sets whose every combination is large can still have a
 * small cell, and are refused. The other way round never happens (test/pipeline/disclosure.test.ts
 * checks it against a search of every combination).
 */
import { fail } from '../../firmware/errors.ts';

/** What the rule needs of a group: its members (whose total its feeder measures) and its k. */
export interface LayoutGroup {
  id: string;
  members: readonly string[];
  k: number;
}

/** A contributor set decrypted, or about to be, in one slot: one aggregate, or one key part of it. */
export interface ContributorSet {
  group: string;
  contributors: readonly string[];
}

export type DisclosureReason =
  /** Some combination of the slot's known totals involves fewer meters than one of them requires. */
  | 'cell-below-k'
  /** The members of a group missing from its contributors are too few: its feeder reading minus its total gives them away. */
  | 'feeder-complement-below-k';

export interface DisclosureViolation {
  reason: DisclosureReason;
  /** The meters of the cell, sorted. */
  cell: string[];
  /** The largest k of any group containing a meter of the cell. */
  k: number;
  /** The group that k is from. */
  group: string;
}

export class DisclosureRule {
  /** For each meter the group with the largest k containing it (ties: the first in the config). */
  private readonly strictest = new Map<string, LayoutGroup>();
  private readonly groups: Map<string, LayoutGroup>;

  constructor(private readonly layout: readonly LayoutGroup[]) {
    this.groups = new Map(layout.map((g) => [g.id, g]));
    for (const group of layout) {
      for (const meter of group.members) {
        const held = this.strictest.get(meter);
        if (!held || group.k > held.k) this.strictest.set(meter, group);
      }
    }
  }

  /** The cells below their k in one slot, given its contributor sets; the feeder sets are always known. */
  violations(sets: readonly ContributorSet[]): DisclosureViolation[] {
    for (const set of sets) {
      if (!this.groups.has(set.group)) fail('unknown-group', `no group "${set.group}" in the layout`);
      for (const meter of set.contributors) {
        if (!this.strictest.has(meter)) fail('unknown-contributor', `${meter} is a member of no group`);
      }
    }
    const known = [...this.layout.map((g) => new Set(g.members)), ...sets.map((s) => new Set(s.contributors))];
    const feeders = this.layout.length;
    // A meter's signature: which known sets contain it. Equal signatures, same cell.
    const cells = new Map<string, string[]>();
    for (const meter of [...this.strictest.keys()].sort()) {
      const signature = known.flatMap((set, i) => (set.has(meter) ? [i] : [])).join(',');
      cells.set(signature, [...(cells.get(signature) ?? []), meter]);
    }
    const violations: DisclosureViolation[] = [];
    for (const [signature, cell] of cells) {
      const group = cell.map((m) => this.strictest.get(m)!).reduce((a, b) => (b.k > a.k ? b : a));
      if (cell.length >= group.k) continue;
      const inSets = signature.split(',').map(Number);
      const inContributors = inSets.some((i) => i >= feeders);
      // Missing members: in a feeder's group whose contributors were counted without them.
      const missing = !inContributors && inSets.some((i) => sets.some((s) => s.group === this.layout[i].id && s.contributors.length > 0));
      violations.push({ reason: missing ? 'feeder-complement-below-k' : 'cell-below-k', cell, k: group.k, group: group.id });
    }
    return violations;
  }

  /** The refusal of a release after which `sets` are known in its slot: the first cell below its k, and how many more. */
  refusal(sets: readonly ContributorSet[]): { reason: DisclosureReason; detail: string } | undefined {
    const found = this.violations(sets);
    if (found.length === 0) return undefined;
    const more = found.length > 1 ? `, and ${found.length - 1} more cell(s)` : '';
    return { reason: found[0].reason, detail: `with the totals known for the slot, ${describeViolation(found[0])}${more}` };
  }

  /** The cells below their k when every member of every group reports. */
  layoutViolations(): DisclosureViolation[] {
    return this.violations(this.layout.map((g) => ({ group: g.id, contributors: g.members })));
  }
}

/** One line for a person: the cell's meters and the k it falls short of. */
export function describeViolation(v: DisclosureViolation): string {
  return `cell of ${v.cell.length} meter(s) ${v.cell.join(',')} is below k = ${v.k} (group ${v.group})`;
}
