import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MeterveilError } from '../../firmware/errors.ts';
import { buildAcl, mayPublish, maySubscribe } from '../../host/broker/acl.ts';
import { deploymentAcl } from '../../host/broker/deployment-acl.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { custodianUsers, ensureSecrets } from '../../host/config/secrets.ts';

const base = {
  groups: [
    { id: 'north', members: ['a1', 'a2', 'shared'], feeder: 'f-north', k: 2 },
    { id: 'south', members: ['b1', 'b2', 'shared'], feeder: 'f-south', k: 3 },
  ],
};
const parse = (patch: Record<string, unknown>) => parseConfig({ ...base, ...patch }, (p) => resolve('/srv/mv', p));
const reason = (fn: () => unknown) =>
  (() => {
    try {
      fn();
      return 'none';
    } catch (e) {
      return (e as MeterveilError).reason + ' ' + (e as Error).message;
    }
  })();

test('defaults fill a minimal config and paths resolve against the data folder', (t) => {
  const c = parse({});
  t.is(c.dataDir, '/srv/mv/data');
  t.is(c.keys.privateKey, '/srv/mv/data/keys/private.json');
  t.is(c.broker.url, 'mqtts://127.0.0.1:8883');
  t.deepEqual(c.http, { host: '127.0.0.1', port: 8080, tls: false, tokens: '/srv/mv/data/keys/api-tokens.json' });
  t.is(c.tls.ca, '/srv/mv/data/tls/ca.pem');
  t.is(c.tls.brokerKey, '/srv/mv/data/tls/broker-key.pem');
  t.is(c.packing.maxGroupSize, 3);
});

test('the outage bound: ten minutes by default, never below the lateness, named when refused', (t) => {
  t.like(parse({}), { latenessSeconds: 90, outageSeconds: 600 });
  t.like(parse({ latenessSeconds: 7200 }), { outageSeconds: 7200 }, 'a lateness beyond ten minutes lifts the default');
  t.like(parse({ outageSeconds: 3600 }), { outageSeconds: 3600 });
  t.regex(
    reason(() => parse({ latenessSeconds: 100, outageSeconds: 99 })),
    /^bad-config .*outageSeconds: must be at least latenessSeconds \(100\)/,
  );
  t.regex(
    reason(() => parse({ outageSeconds: 7 * 86_400 + 1 })),
    /^bad-config .*outageSeconds/,
  );
  t.regex(
    reason(() => parse({ outageSeconds: 600.5 })),
    /^bad-config .*outageSeconds/,
  );
});

test('impossible or privacy-weakening configs are refused with the field named', (t) => {
  t.regex(
    reason(() => parse({ groups: [{ ...base.groups[0], k: 1 }] })),
    /^bad-config .*group north: k/,
  );
  t.regex(
    reason(() => parse({ groups: [{ ...base.groups[0], k: 4 }] })),
    /^bad-config .*group north: k/,
  );
  t.regex(
    reason(() => parse({ groups: [{ ...base.groups[0], members: ['a1', 'a1'] }] })),
    /listed twice/,
  );
  t.regex(
    reason(() => parse({ groups: [base.groups[0], base.groups[0]] })),
    /share an id/,
  );
  t.regex(
    reason(() => parse({ slotSecond: 60 })),
    /unknown key "slotSecond"/,
  );
  t.regex(
    reason(() => parse({ packing: { maxGroupSize: 2 } })),
    /below the largest group/,
  );
  t.regex(
    reason(() => parse({ broker: { url: 'http://x' } })),
    /broker.url/,
  );
  t.regex(
    reason(() => parse({ groups: [{ ...base.groups[0], members: ['provider', 'a2'] }] })),
    /reserved/,
  );
  t.regex(
    reason(() => parse({ groups: [{ ...base.groups[0], feeder: 'a1' }] })),
    /also a customer meter/,
  );
  t.regex(
    reason(() => parse({ tolerance: 2 })),
    /tolerance/,
  );
});

test('the ACL lets each party reach exactly its own topics', (t) => {
  const acl = buildAcl(parse({}));
  t.true(mayPublish(acl, 'a1', 'meterveil/v1/groups/north/reports/a1'));
  t.false(mayPublish(acl, 'a1', 'meterveil/v1/groups/south/reports/a1'), 'a group it is not in');
  t.false(mayPublish(acl, 'a1', 'meterveil/v1/groups/north/reports/a2'));
  t.false(mayPublish(acl, 'a1', 'meterveil/v1/groups/north/reports/~backlog'), "its aggregator's marker");
  t.true(mayPublish(acl, 'shared', 'meterveil/v1/groups/north/reports/shared'));
  t.true(mayPublish(acl, 'shared', 'meterveil/v1/groups/south/reports/shared'));
  t.false(mayPublish(acl, 'a1', 'meterveil/v1/groups/north/aggregates'));
  t.true(maySubscribe(acl, 'a1', 'meterveil/v1/meters/a1/acks'));
  t.false(maySubscribe(acl, 'a1', 'meterveil/v1/meters/+/acks'));
  t.true(maySubscribe(acl, 'aggregator.north', 'meterveil/v1/groups/north/reports/+'));
  t.true(maySubscribe(acl, 'aggregator.south', 'meterveil/v1/groups/south/reports/+'));
  t.false(maySubscribe(acl, 'aggregator.north', 'meterveil/v1/groups/south/reports/+'));
  t.false(maySubscribe(acl, 'aggregator.north', 'meterveil/v1/groups/+/reports/+'));
  t.true(mayPublish(acl, 'aggregator.north', 'meterveil/v1/groups/north/reports/~backlog'));
  t.false(mayPublish(acl, 'aggregator.north', 'meterveil/v1/groups/north/reports/a1'), "a member's report");
  t.true(mayPublish(acl, 'aggregator.north', 'meterveil/v1/groups/north/aggregates'));
  t.false(mayPublish(acl, 'aggregator.north', 'meterveil/v1/groups/south/aggregates'));
  t.true(mayPublish(acl, 'aggregator.north', 'meterveil/v1/meters/a1/acks'));
  t.false(mayPublish(acl, 'provider', 'meterveil/v1/groups/north/aggregates'));
  t.true(maySubscribe(acl, 'provider', 'meterveil/v1/groups/+/aggregates'));
  t.false(maySubscribe(acl, 'provider', 'meterveil/v1/groups/+/reports/+'));
  t.false(maySubscribe(acl, 'provider', '#'));
  t.true(mayPublish(acl, 'feeder.f-north', 'meterveil/v1/feeders/f-north/readings'));
  t.false(mayPublish(acl, 'feeder.f-north', 'meterveil/v1/feeders/f-south/readings'));
  t.false(mayPublish(acl, undefined, 'meterveil/v1/groups/north/reports/a1'));
});

test('threshold mode: decryption settings are parsed and checked, custodians get broker passwords and exactly their topics', (t) => {
  t.deepEqual(parse({}).provider.decryption, { mode: 'single' });
  const c = parse({ provider: { decryption: { mode: 'threshold', custodians: 3, threshold: 2 } } });
  t.deepEqual(c.provider.decryption, {
    mode: 'threshold',
    publicKeys: ['/srv/mv/data/keys/public.json'],
    publicKey: '/srv/mv/data/keys/public.json',
    custodians: 3,
    threshold: 2,
    timeoutMs: 30_000,
    retryMs: 60_000,
    allowUndetectableDifferencing: false,
  });
  t.regex(
    reason(() => parse({ provider: { decryption: { mode: 'threshold', custodians: 3, threshold: 4 } } })),
    /^bad-config .*threshold/,
  );
  t.regex(
    reason(() => parse({ provider: { decryption: { mode: 'threshold', threshold: 2 } } })),
    /^bad-config .*custodians/,
  );
  t.regex(
    reason(() => parse({ provider: { decryption: { mode: 'single', custodians: 3 } } })),
    /unknown key "custodians"/,
  );
  t.regex(
    reason(() => parse({ provider: { decryption: { mode: 'shamir' } } })),
    /mode/,
  );

  t.deepEqual(custodianUsers(parse({})), []);
  t.deepEqual(custodianUsers(c), ['custodian.1', 'custodian.2', 'custodian.3']);
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-config-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const secrets = ensureSecrets(
    parseConfig({ ...base, dataDir: dir, provider: { decryption: { mode: 'threshold', custodians: 3, threshold: 2 } } }, (p) =>
      resolve(dir, p),
    ),
  );
  t.deepEqual(
    Object.keys(secrets.services)
      .filter((u) => u.startsWith('custodian.'))
      .sort(),
    ['custodian.1', 'custodian.2', 'custodian.3'],
  );

  const acl = deploymentAcl(c);
  t.true(mayPublish(acl, 'custodian.2', 'meterveil/v1/custodians/2/partials'));
  t.false(mayPublish(acl, 'custodian.2', 'meterveil/v1/custodians/1/partials'));
  t.true(maySubscribe(acl, 'custodian.2', 'meterveil/v1/custodians/requests'));
  t.true(maySubscribe(acl, 'custodian.2', 'meterveil/v1/groups/+/evidence'));
  t.false(maySubscribe(acl, 'provider', 'meterveil/v1/groups/+/evidence'), 'the provider never receives a report');
  t.true(mayPublish(acl, 'aggregator.north', 'meterveil/v1/groups/north/evidence'));
  t.false(mayPublish(acl, 'aggregator.north', 'meterveil/v1/groups/south/evidence'));
  t.false(mayPublish(acl, 'custodian.2', 'meterveil/v1/custodians/requests'));
  t.false(acl.has('custodian.4'));
  t.true(mayPublish(acl, 'provider', 'meterveil/v1/custodians/requests'));
  t.true(maySubscribe(acl, 'provider', 'meterveil/v1/custodians/+/partials'));
  t.false(mayPublish(deploymentAcl(parse({})), 'provider', 'meterveil/v1/custodians/requests'), 'single mode has no custodian topics');
});

test('a threshold of at most half the custodians is refused unless undetectable differencing is allowed by name', (t) => {
  for (const [threshold, custodians] of [
    [2, 4],
    [1, 2],
    [3, 6],
  ]) {
    t.regex(
      reason(() => parse({ provider: { decryption: { mode: 'threshold', custodians, threshold } } })),
      /^disjoint-quorums .*two disjoint sets of custodians/,
      `${threshold} of ${custodians}`,
    );
    const allowed = parse({ provider: { decryption: { mode: 'threshold', custodians, threshold, allowUndetectableDifferencing: true } } });
    t.like(allowed.provider.decryption, { threshold, custodians, allowUndetectableDifferencing: true });
  }
  t.like(parse({ provider: { decryption: { mode: 'threshold', custodians: 5, threshold: 3 } } }).provider.decryption, { threshold: 3 });
  t.regex(
    reason(() =>
      parse({ provider: { decryption: { mode: 'threshold', custodians: 4, threshold: 2, allowUndetectableDifferencing: 'yes' } } }),
    ),
    /^bad-config .*allowUndetectableDifferencing/,
  );
});

test('a tier of brokers: urls in order, url their first; a NATS cluster names one route per node; both checked by name', (t) => {
  const urls = ['mqtts://10.0.0.1:8883', 'mqtts://10.0.0.2:8883', 'mqtts://10.0.0.3:8883'];
  const routes = ['10.0.0.1:6222', '10.0.0.2:6222', '10.0.0.3:6222'];
  const c = parse({ broker: { urls, cluster: { routes } } });
  t.deepEqual(c.broker.urls, urls);
  t.is(c.broker.url, urls[0]);
  t.false(c.broker.embedded, 'a cluster is not the embedded broker');
  t.deepEqual(c.broker.cluster?.routes[2], { host: '10.0.0.3', port: 6222 });
  t.deepEqual(parse({ broker: { url: 'mqtt://127.0.0.1:1883' } }).broker.urls, ['mqtt://127.0.0.1:1883']);
  t.regex(
    reason(() => parse({ broker: { url: urls[0], urls } })),
    /bad-config: broker: give url .* or urls/,
  );
  t.regex(
    reason(() => parse({ broker: { urls: [] } })),
    /bad-config: broker\.urls must list 1\.\.16/,
  );
  t.regex(
    reason(() => parse({ broker: { urls: [urls[0], urls[0]], embedded: false } })),
    /lists a broker twice/,
  );
  t.regex(
    reason(() => parse({ broker: { urls: [urls[0], 'mqtt://10.0.0.2:1883'], embedded: false } })),
    /plain-off-loopback: broker\.urls\[1\]/,
  );
  t.regex(
    reason(() => parse({ broker: { urls } })),
    /broker\.embedded runs one broker/,
  );
  t.regex(
    reason(() => parse({ broker: { urls, cluster: { routes: routes.slice(1) } } })),
    /one host:port per broker URL \(3\)/,
  );
  t.regex(
    reason(() => parse({ broker: { urls: urls.slice(1), cluster: { routes: routes.slice(1) } } })),
    /at least 3 nodes/,
  );
  t.regex(
    reason(() => parse({ broker: { urls, cluster: { routes: [routes[0], routes[0], routes[1]] } } })),
    /lists an address twice/,
  );
  t.regex(
    reason(() => parse({ broker: { urls, cluster: { routes: ['10.0.0.1', ...routes.slice(1)] } } })),
    /routes\[0\] must look like host:port/,
  );
  t.regex(
    reason(() => parse({ broker: { urls, embedded: true, cluster: { routes } } })),
    /broker\.embedded runs one broker|exclude each other/,
  );
});
