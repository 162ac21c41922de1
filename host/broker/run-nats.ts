/**
 * `meterveil broker --nats FILE`: runs one node of the NATS cluster with a node config that
 * `provision` (OUT/broker/nats/NAME.conf) or `meterveil start --cluster N` wrote. The node is ready
 * once its MQTT and route listeners accept connections; its JetStream streams are ready once a
 * majority of the nodes is up, and clients that connect before then are refused and try again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import { runChildBroker, type RunningChildBroker } from './child-broker.ts';

/** host and port of a block (`mqtt {`, `cluster {`) in a node config written by natsNodeConf. */
function listenerOf(conf: string, block: string): { host: string; port: number } {
  const lines = conf.split('\n');
  const start = lines.indexOf(`${block} {`);
  const setting = (name: string) => {
    const line = lines.slice(start + 1).find((l) => l.startsWith(`  ${name}: `));
    return line?.slice(name.length + 4).trim();
  };
  const host = setting('host');
  const port = Number(setting('port'));
  if (start < 0 || host === undefined || !Number.isInteger(port))
    fail('nats-files-missing', `the NATS node config has no ${block} listener: give a file that \`meterveil provision\` wrote`);
  return { host: JSON.parse(host) as string, port };
}

export function natsNodeListeners(conf: string): { mqtt: { host: string; port: number }; route: { host: string; port: number } } {
  return { mqtt: listenerOf(conf, 'mqtt'), route: listenerOf(conf, 'cluster') };
}

export function runNatsNode(file: string, log: (line: string) => void, startTimeoutMs = 15_000): Promise<RunningChildBroker> {
  const path = resolve(file);
  if (!existsSync(path))
    fail('nats-files-missing', `${path} does not exist: give a node config that \`meterveil provision\` wrote (OUT/broker/nats/NAME.conf)`);
  const { mqtt, route } = natsNodeListeners(readFileSync(path, 'utf8'));
  return runChildBroker({
    command: 'nats-server',
    args: ['-c', path],
    listeners: [mqtt, route],
    log,
    unavailable: { reason: 'nats-unavailable', message: 'the nats-server command is not installed (Debian: apt install nats-server)' },
    exitedReason: 'nats-exited',
    startTimeoutMs,
  });
}
