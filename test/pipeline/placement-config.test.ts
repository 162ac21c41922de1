/**
 * Placement of groups on aggregator hosts (config `aggregators`): every group exactly once, names
 * refused by name; a host's broker permissions are its groups' and no more; one process per store.
 */
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { MeterveilError } from '../../firmware/errors.ts';
import { mayPublish, maySubscribe } from '../../host/broker/acl.ts';
import { deploymentAcl } from '../../host/broker/deployment-acl.ts';
import { findAggregatorHost, largestSessionMeters } from '../../host/config/placement.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { lockStore } from '../../host/store/owner-lock.ts';

const base = {
  groups: [
    { id: 'north', members: ['a1', 'a2', 'shared'], feeder: 'f-north', k: 2 },
    { id: 'south', members: ['b1', 'b2', 'shared'], feeder: 'f-south', k: 2 },
    { id: 'east', members: ['c1', 'c2'], feeder: 'f-east', k: 2 },
  ],
};
const parse = (aggregators: unknown, patch: Record<string, unknown> = {}) =>
  parseConfig({ ...base, aggregators, ...patch }, (p) => resolve('/srv/mv', p));
const refusal = (fn: () => unknown) => {
  try {
    fn();
    return 'none';
  } catch (e) {
    return `${(e as MeterveilError).reason} ${(e as Error).message}`;
  }
};

test('a placement puts every group on one host; without one, each group runs on its own', (t) => {
  t.deepEqual(parse(undefined).aggregators, []);
  t.deepEqual(parse({ h1: ['north', 'south'], h2: ['east'] }).aggregators, [
    { name: 'h1', groups: ['north', 'south'] },
    { name: 'h2', groups: ['east'] },
  ]);
  t.is(largestSessionMeters(parse({ h1: ['north', 'south'], h2: ['east'] })), 5, 'h1 reads five meters, shared once');
  t.is(largestSessionMeters(parse(undefined)), 3);
});

test('a group placed twice, nowhere, or unknown, and a bad host name, are refused by name', (t) => {
  t.regex(
    refusal(() => parse({ h1: ['north', 'south'], h2: ['south', 'east'] })),
    /^bad-config .*"south" is placed on h1 too/,
  );
  t.regex(
    refusal(() => parse({ h1: ['north', 'north', 'south', 'east'] })),
    /"north" is placed on h1 twice/,
  );
  t.regex(
    refusal(() => parse({ h1: ['north', 'south'] })),
    /^bad-config .*east placed on no host/,
  );
  t.regex(
    refusal(() => parse({ h1: ['north', 'south', 'east', 'west'] })),
    /^bad-config .*aggregators\.h1: group "west" is not in groups/,
  );
  t.regex(
    refusal(() => parse({ 'h/1': ['north', 'south', 'east'] })),
    /^bad-config .*aggregators: host name "h\/1"/,
  );
  t.regex(
    refusal(() => parse({ h1: [], h2: ['north', 'south', 'east'] })),
    /aggregators\.h1: must be a non-empty array/,
  );
  t.regex(
    refusal(() => parse({})),
    /must name at least one host/,
  );
  t.regex(
    refusal(() => parse(['north'])),
    /aggregators: must be an object/,
  );
  t.regex(
    refusal(() => parseConfig({ groups: [{ id: 'g', members: ['aggregators.h1', 'm2'], feeder: 'f', k: 2 }] }, (p) => p)),
    /reserved for a service/,
  );
});

test('--host names a host of the placement, or is refused with the ones there are', (t) => {
  const c = parse({ h1: ['north', 'south'], h2: ['east'] });
  t.deepEqual(findAggregatorHost(c.aggregators, 'h2').groups, ['east']);
  t.regex(
    refusal(() => findAggregatorHost(c.aggregators, 'h3')),
    /^unknown-aggregator-host .*"h3".*\(h1, h2\)/,
  );
  t.regex(
    refusal(() => findAggregatorHost(parse(undefined).aggregators, 'h1')),
    /^unknown-aggregator-host .*run --group/,
  );
});

test("an aggregator host may do what its groups' aggregators may, and nothing of another group", (t) => {
  for (const mode of ['single', 'threshold'] as const) {
    const decryption = mode === 'single' ? undefined : { mode, custodians: 3, threshold: 2, publicKey: 'keys/threshold.json' };
    const acl = deploymentAcl(parse({ h1: ['north', 'south'], h2: ['east'] }, decryption ? { provider: { decryption } } : {}));
    const h1 = 'aggregators.h1';
    for (const m of ['a1', 'b1', 'shared']) t.true(mayPublish(acl, h1, `meterveil/v1/meters/${m}/acks`));
    for (const g of ['north', 'south']) {
      t.true(maySubscribe(acl, h1, `meterveil/v1/groups/${g}/reports/+`));
      t.true(mayPublish(acl, h1, `meterveil/v1/groups/${g}/reports/~backlog`));
    }
    t.true(mayPublish(acl, h1, 'meterveil/v1/groups/south/aggregates'));
    t.is(mayPublish(acl, h1, 'meterveil/v1/groups/north/evidence'), mode === 'threshold');
    t.false(maySubscribe(acl, h1, 'meterveil/v1/groups/east/reports/+'));
    t.false(mayPublish(acl, h1, 'meterveil/v1/groups/east/aggregates'));
    t.false(mayPublish(acl, h1, 'meterveil/v1/meters/c1/acks'));
    t.false(maySubscribe(acl, 'aggregators.h2', 'meterveil/v1/groups/north/reports/+'));
    t.false(acl.has('aggregators.h3'));
  }
});

test('one process at a time holds a store: a live owner is refused, a dead one (kill -9) is taken over, one of another machine refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-lock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = join(dir, 'aggregator-g.sqlite');
  const held = lockStore(store, 'aggregator g');
  t.regex(
    refusal(() => lockStore(store, 'aggregator g')),
    new RegExp(`^store-in-use .*in use by process ${process.pid}`),
  );
  held.release();
  lockStore(store, 'aggregator g').release();

  // A process that died holding the lock: its pid no longer runs.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(`${store}.owner`, JSON.stringify({ machine: hostname(), pid: Number(dead.stdout) }));
  const taken = lockStore(store, 'aggregator g');
  taken.release();

  writeFileSync(`${store}.owner`, JSON.stringify({ machine: 'elsewhere', pid: 1 }));
  t.regex(
    refusal(() => lockStore(store, 'aggregator g')),
    /^store-in-use .*locked by a process on elsewhere/,
  );
});
