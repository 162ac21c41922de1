/**
 * `meterveil start` with a config whose broker is a NATS cluster (broker.cluster): the node
 * configs written into the data folder's nats/ (made again at every start, from the config and the
 * secrets), and each node run as a child role (`meterveil broker --nats FILE`), which the
 * supervisor restarts if it dies. Every node must be on loopback: start runs them all here.
 */
import { join } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import { natsNodes, writeNatsConfigs } from '../broker/nats-files.ts';
import type { Secrets } from '../config/secrets.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { isLoopbackHost } from '../net/loopback.ts';
import type { Supervisor } from './supervisor.ts';

export async function startNatsCluster(config: MeterveilConfig, secrets: Secrets, supervisor: Supervisor): Promise<string[]> {
  for (const n of natsNodes(config))
    if (!isLoopbackHost(n.mqtt.host) || !isLoopbackHost(n.route.host))
      fail(
        'bad-config',
        `start runs the NATS cluster on this machine: node ${n.name} is off loopback; run each node with broker --nats on its own machine`,
      );
  const files = writeNatsConfigs(config, secrets, join(config.dataDir, 'nats'));
  // Together: a node's JetStream waits for a majority of the others.
  await Promise.all(
    files.map(({ name, path }) => supervisor.start({ name: `nats-${name}`, args: ['broker', '--nats', path], show: /^$/ })),
  );
  return files.map((f) => f.name);
}
