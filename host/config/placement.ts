/**
 * Which aggregator process runs which groups (config `aggregators`): a named aggregator host runs
 * its groups in one process over one MQTT connection (host/aggregator/host.ts). Absent, each group
 * runs on its own (`meterveil aggregator --group`). Present, every group is placed exactly once: a
 * group placed twice would be counted by two processes, each with part of its reports; one placed
 * nowhere would be counted by none.
 */
import { fail } from '../../firmware/errors.ts';
import type { Refuse } from '../../firmware/config/rules.ts';
import { id as checkId } from '../../firmware/config/rules.ts';

export interface AggregatorHost {
  /** The process's name: its MQTT identity is aggregators.<name> (host/config/identities.ts). */
  name: string;
  /** Group ids, in the config's order of the host's list. */
  groups: string[];
}

/** `aggregators`: { "<host name>": ["<group id>", ...], ... }; undefined or null: no placement. */
export function parsePlacement(value: unknown, groupIds: readonly string[], refuse: Refuse): AggregatorHost[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) refuse('aggregators', 'must be an object of host name to group ids');
  const known = new Set(groupIds);
  const placedOn = new Map<string, string>();
  const hosts = Object.entries(value as Record<string, unknown>).map(([rawName, list]) => {
    const name = checkId(rawName, `aggregators: host name "${rawName}"`, refuse);
    if (!Array.isArray(list) || list.length === 0) refuse(`aggregators.${name}`, 'must be a non-empty array of group ids');
    const groups = list.map((g, i) => checkId(g, `aggregators.${name}[${i}]`, refuse));
    for (const g of groups) {
      if (!known.has(g)) refuse(`aggregators.${name}`, `group "${g}" is not in groups`);
      const other = placedOn.get(g);
      if (other !== undefined)
        refuse(
          `aggregators.${name}`,
          `group "${g}" is placed on ${other === name ? `${name} twice` : `${other} too`}: each group runs in one process`,
        );
      placedOn.set(g, name);
    }
    return { name, groups };
  });
  if (hosts.length === 0) refuse('aggregators', 'must name at least one host (or be left out)');
  const unplaced = groupIds.filter((g) => !placedOn.has(g));
  if (unplaced.length > 0) refuse('aggregators', `group(s) ${unplaced.join(', ')} placed on no host: every group must run somewhere`);
  return hosts;
}

export function findAggregatorHost(hosts: readonly AggregatorHost[], name: string): AggregatorHost {
  if (hosts.length === 0)
    fail('unknown-aggregator-host', `the config places no groups on aggregator hosts (no "aggregators"): run --group`);
  return (
    hosts.find((h) => h.name === name) ??
    fail('unknown-aggregator-host', `no aggregator host "${name}" in the config's aggregators (${hosts.map((h) => h.name).join(', ')})`)
  );
}

/** The most meters one aggregator session reads: a group's or, placed, a host's (the broker's queue bound follows it). */
export function largestSessionMeters(config: { groups: { id: string; members: string[] }[]; aggregators: AggregatorHost[] }): number {
  const members = new Map(config.groups.map((g) => [g.id, g.members]));
  return Math.max(
    ...config.groups.map((g) => g.members.length),
    ...config.aggregators.map((h) => new Set(h.groups.flatMap((g) => members.get(g)!)).size),
  );
}
