/** Runs the embedded broker for a config: its users from the secrets file, its ACL from the groups, TLS for mqtts://. */
import { join } from 'node:path';
import type { MeterveilConfig } from '../config/schema.ts';
import { brokerAddress } from '../config/schema.ts';
import { brokerUsers, readSecrets } from '../config/secrets.ts';
import { deploymentAcl } from './deployment-acl.ts';
import { brokerServerTls } from '../tls/files.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded.ts';
import { sessionQueueBound } from './mosquitto.ts';
import type { RoleLog } from '../log/logger.ts';

export function runBroker(config: MeterveilConfig, log?: RoleLog): Promise<EmbeddedBroker> {
  const { host, port } = brokerAddress(config);
  return startEmbeddedBroker({
    host,
    port,
    ...brokerAccess(config),
    log,
    tls: brokerServerTls(config),
    sessionsFile: brokerSessionsFile(config),
    maxQueuedMessages: sessionQueueBound(config),
  });
}

/** Where the embedded broker keeps its persistent sessions' subscriptions (sessions-file.ts): in the data folder, beside the roles' stores. */
export function brokerSessionsFile(config: MeterveilConfig): string {
  return join(config.dataDir, 'broker-sessions.json');
}

/** Who may log in, and what each may do, for a config: what the broker takes at start and on a reload. */
export function brokerAccess(config: MeterveilConfig) {
  return { users: brokerUsers(readSecrets(config.keys.secrets)), acl: deploymentAcl(config) };
}
