/**
 * The contributor sets `meterveil policy check --slots FILE` is asked about:
 * `{"slots":[{"slot":N,"sets":[{"group":"ID","contributors":["meter",...]}]}]}`. Parsed strictly,
 * like the config: an unknown key, a group not in the config or a contributor not in its group
 * stops the check with a named reason rather than checking something other than what was meant.
 */
import { fail } from '../../firmware/errors.ts';
import type { LayoutGroup, ContributorSet } from './disclosure.ts';

export interface SlotSets {
  slot: number;
  sets: ContributorSet[];
}

function object(value: unknown, what: string, keys: string[]): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('bad-slots', `${what} must be an object`);
  for (const key of Object.keys(value)) if (!keys.includes(key)) fail('bad-slots', `${what}: unknown key "${key}"`);
  return value as Record<string, unknown>;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) fail('bad-slots', `${what} must be an array`);
  return value;
}

export function parseSlotsFile(input: unknown, groups: readonly LayoutGroup[]): SlotSets[] {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const slots = list(object(input, 'slots file', ['slots']).slots, 'slots').map((value, i): SlotSets => {
    const s = object(value, `slots[${i}]`, ['slot', 'sets']);
    if (!Number.isSafeInteger(s.slot) || (s.slot as number) < 0) fail('bad-slots', `slots[${i}].slot must be a non-negative integer`);
    const slot = s.slot as number;
    const sets = list(s.sets, `slot ${slot}: sets`).map((value, j): ContributorSet => {
      const what = `slot ${slot}: sets[${j}]`;
      const set = object(value, what, ['group', 'contributors']);
      const group = byId.get(set.group as string) ?? fail('unknown-group', `${what}: no group ${JSON.stringify(set.group)} in the config`);
      const contributors = list(set.contributors, `${what}.contributors`);
      const members = new Set(group.members);
      for (const m of contributors) {
        if (typeof m !== 'string' || !members.has(m))
          fail('unknown-contributor', `${what}: ${JSON.stringify(m)} is not a member of ${group.id}`);
      }
      if (new Set(contributors).size !== contributors.length) fail('bad-slots', `${what}: a contributor is listed twice`);
      return { group: group.id, contributors: contributors as string[] };
    });
    return { slot, sets };
  });
  if (new Set(slots.map((s) => s.slot)).size !== slots.length) fail('bad-slots', 'a slot is listed twice');
  return slots;
}
