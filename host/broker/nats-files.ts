/**
 * A deployment's NATS node configs (host/broker/nats.ts) from its config: node i serves MQTT at
 * broker.urls[i] and routes at broker.cluster.routes[i]. `provision` writes them for the
 * operator's machines, `meterveil start --cluster N` for nodes on loopback.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBrokerUrl } from '../../firmware/config/broker-url.ts';
import { fail } from '../../firmware/errors.ts';
import { HOST_TRANSPORTS, type MeterveilConfig } from '../config/schema.ts';
import { brokerUsers, type Secrets } from '../config/secrets.ts';
import { natsPasswordHash } from '../provision/credentials.ts';
import { brokerUsesTls } from '../tls/files.ts';
import type { Acl } from './acl.ts';
import { deploymentAcl } from './deployment-acl.ts';
import { natsMaxAckPending, natsNodeConf, type NatsNode, type NatsTlsFiles } from './nats.ts';

const bare = (host: string) => host.replace(/^\[|\]$/g, '');
const refuse = (field: string, explanation: string): never => fail('bad-config', `${field}: ${explanation}`);

export function natsNodes(config: MeterveilConfig): NatsNode[] {
  const { cluster, urls } = config.broker;
  if (!cluster) return fail('bad-config', "broker.cluster is not set: a NATS cluster needs its nodes' routes (docs/deployment.md)");
  const addresses = urls.map((url, i) => parseBrokerUrl(url, `broker.urls[${i}]`, HOST_TRANSPORTS, refuse));
  // Every node has TLS or none has: one scheme, which the parties check by the first URL.
  if (addresses.some((a) => a.scheme !== addresses[0].scheme))
    fail('bad-config', 'broker.urls of a NATS cluster must all be mqtts:// or all mqtt://');
  return addresses.map(({ host, port }, i) => {
    const route = cluster.routes[i];
    return { name: `node-${i + 1}`, mqtt: { host: bare(host), port }, route: { host: bare(route.host), port: route.port } };
  });
}

export interface NatsFileOptions {
  /** The folder each node keeps its JetStream files in, under it: NAME/jetstream. */
  dir: string;
  /** User name to bcrypt hash. */
  users: ReadonlyMap<string, string>;
  acl: Acl;
  routeUser: { user: string; password: string };
  tls?: NatsTlsFiles;
}

/** Each node's name and config text. */
export function natsNodeConfs(config: MeterveilConfig, o: NatsFileOptions): Map<string, string> {
  const nodes = natsNodes(config);
  const maxAckPending = natsMaxAckPending(o.acl);
  return new Map(
    nodes.map((node) => [
      node.name,
      natsNodeConf({
        node,
        nodes,
        storeDir: join(o.dir, node.name, 'jetstream'),
        users: o.users,
        acl: o.acl,
        routeUser: o.routeUser,
        tls: o.tls,
        maxAckPending,
      }),
    ]),
  );
}

/** The nodes' login on their routes. */
export const NATS_ROUTE_USER = 'meterveil-route';

/**
 * Writes each node's config into `dir` (NAME.conf, mode 0600: it holds password hashes and the
 * route secret, fresh each time), with the config's TLS files; returns the nodes and their files.
 */
export function writeNatsConfigs(config: MeterveilConfig, secrets: Secrets, dir: string): { name: string; path: string }[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const users = new Map([...brokerUsers(secrets)].map(([user, password]) => [user, natsPasswordHash(password)]));
  const confs = natsNodeConfs(config, {
    dir,
    users,
    acl: deploymentAcl(config),
    routeUser: { user: NATS_ROUTE_USER, password: randomBytes(32).toString('hex') },
    tls: brokerUsesTls(config) ? { caFile: config.tls.ca, certFile: config.tls.brokerCert, keyFile: config.tls.brokerKey } : undefined,
  });
  return [...confs].map(([name, text]) => {
    const path = join(dir, `${name}.conf`);
    writeFileSync(path, text, { mode: 0o600 });
    return { name, path };
  });
}
