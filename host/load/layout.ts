/**
 * The deployment a load run generates: N meters in groups of `groupSize` (the last one may be
 * smaller, never below 2), one feeder per group, single-key or threshold decryption, every
 * service on loopback. Written as an ordinary config file into the run's folder, so the roles
 * start from it exactly as an operator's would.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fail } from '../../firmware/errors.ts';

/** aedes in its own process, mosquitto, or a three-node NATS cluster. */
export type LoadBroker = 'embedded' | 'mosquitto' | 'nats';
export const LOAD_BROKERS: readonly LoadBroker[] = ['embedded', 'mosquitto', 'nats'];
const NATS_NODES = 3;

export interface LoadLayoutOptions {
  meters: number;
  groupSize: number;
  slotSeconds: number;
  broker: LoadBroker;
  /** Loopback address the services listen on. */
  host: string;
  /** Custodians and their threshold; absent: single-key decryption. */
  threshold?: { threshold: number; custodians: number };
  /** Groups per aggregator process (config `aggregators`, host/config/placement.ts); 1: one process per group, unplaced. */
  groupsPerAggregator?: number;
}

export const meterIdOf = (index: number) => `lm${String(index + 1).padStart(6, '0')}`;
const groupIdOf = (index: number) => `lg${String(index + 1).padStart(4, '0')}`;
const aggregatorHostOf = (index: number) => `la${String(index + 1).padStart(4, '0')}`;

/** The groups in runs of `perHost`, each run an aggregator host's; none (one process per group) for 1. */
export function loadPlacement(groupIds: readonly string[], perHost: number): Record<string, string[]> | undefined {
  if (perHost <= 1) return undefined;
  const hosts: Record<string, string[]> = {};
  for (let i = 0; i < groupIds.length; i += perHost) hosts[aggregatorHostOf(i / perHost)] = groupIds.slice(i, i + perHost);
  return hosts;
}

export function loadGroups(meters: number, groupSize: number): { id: string; members: string[]; feeder: string; k: number }[] {
  if (!Number.isInteger(groupSize) || groupSize < 2) fail('bad-argument', '--group-size must be an integer of at least 2');
  const count = Math.ceil(meters / groupSize);
  // An undersized last group would make a cell smaller than the others' k: spread the remainder.
  const base = Math.floor(meters / count);
  let next = 0;
  return Array.from({ length: count }, (_, g) => {
    const size = base + (g < meters % count ? 1 : 0);
    if (size < 2) fail('bad-argument', 'every group needs at least 2 meters');
    const members = Array.from({ length: size }, () => meterIdOf(next++));
    return { id: groupIdOf(g), members, feeder: `feeder-${groupIdOf(g)}`, k: Math.min(5, size) };
  });
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Writes <dir>/meterveil.json; returns its path. */
export async function writeLoadLayout(dir: string, o: LoadLayoutOptions): Promise<string> {
  const groups = loadGroups(o.meters, o.groupSize);
  const httpPort = await freePort(o.host);
  const ports = async (n: number) => {
    const list: number[] = [];
    for (let i = 0; i < n; i++) list.push(await freePort(o.host));
    return list;
  };
  const broker =
    o.broker === 'nats'
      ? {
          urls: (await ports(NATS_NODES)).map((p) => `mqtt://${o.host}:${p}`),
          embedded: false,
          cluster: { routes: (await ports(NATS_NODES)).map((p) => `${o.host}:${p}`) },
        }
      : { url: `mqtt://${o.host}:${await freePort(o.host)}`, embedded: o.broker === 'embedded' };
  const config = {
    dataDir: '.',
    broker,
    slotSeconds: o.slotSeconds,
    skewSeconds: 5,
    tolerance: 0.05,
    packing: { readings: 4, maxPowerWatts: 23_000, maxGroupSize: Math.max(...groups.map((g) => g.members.length)) },
    http: { host: o.host, port: httpPort },
    durability: 'process',
    provider: {
      decryption: o.threshold ? { mode: 'threshold', ...o.threshold, timeoutMs: 10_000, retryMs: 15_000 } : { mode: 'single' },
    },
    groups,
    aggregators: loadPlacement(
      groups.map((g) => g.id),
      o.groupsPerAggregator ?? 1,
    ),
  };
  const path = join(dir, 'meterveil.json');
  writeFileSync(path, JSON.stringify(config, null, 2) + '\n');
  return path;
}
