/** The metrics listener: /metrics only, on a loopback address only, from an address the command line spells host:port. */
import test from 'ava';
import { startMetricsListener } from '../../host/metrics/listener.ts';
import { counter, roleRegistry } from '../../host/metrics/registry.ts';
import { parseHttpAddress } from '../../host/net/http-server.ts';
import { isLoopbackHost } from '../../host/net/loopback.ts';
import { samples, value } from '../helpers/prometheus.ts';

test('serves the registry at /metrics with the role label and process metrics; any other path or method is 404', async (t) => {
  const registry = roleRegistry({ role: 'aggregator', group: 'north' });
  counter(registry, 'meterveil_test_total', 'a test counter').inc(3);
  const listener = await startMetricsListener(registry, { host: '127.0.0.1', port: 0 });
  t.teardown(() => listener.close());
  const res = await fetch(`${listener.url}/metrics`);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const all = samples(await res.text());
  t.is(value(all, 'meterveil_test_total', { role: 'aggregator', group: 'north' }), 3);
  t.true(value(all, 'process_resident_memory_bytes') > 0);
  t.is((await fetch(`${listener.url}/`)).status, 404);
  t.is((await fetch(`${listener.url}/metrics`, { method: 'POST' })).status, 404);
});

test('a host that is not loopback is refused by name: plain HTTP stays on the machine', async (t) => {
  for (const host of ['0.0.0.0', '192.168.1.10', '::', 'example.org']) {
    const error = await t.throwsAsync(startMetricsListener(roleRegistry({ role: 'feeder' }), { host, port: 0 }));
    t.regex(error!.message, /^plain-off-loopback: metrics on /, host);
  }
  t.true(['127.0.0.1', '127.3.2.1', '::1', 'localhost'].every(isLoopbackHost));
});

test('--metrics takes host:port or [v6]:port', (t) => {
  t.deepEqual(parseHttpAddress('127.0.0.1:9464', '--metrics'), { host: '127.0.0.1', port: 9464 });
  t.deepEqual(parseHttpAddress('[::1]:0', '--metrics'), { host: '::1', port: 0 });
  t.deepEqual(parseHttpAddress('localhost:80', '--metrics'), { host: 'localhost', port: 80 });
  for (const bad of ['9464', '127.0.0.1', '127.0.0.1:65536', ':9464', '::1:9464', 'host:port', '127.0.0.1:9464/metrics'])
    t.throws(() => parseHttpAddress(bad, '--metrics'), { message: /^bad-argument: --metrics must be host:port/ }, bad);
});
