/**
 * Waits until every broker of a deployment takes MQTT sessions: a NATS node listens before its
 * JetStream has a leader, and refuses connections until then.
 */
import { PROVIDER_USER } from '../config/identities.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { readSecrets } from '../config/secrets.ts';
import { brokerConnection } from '../tls/files.ts';
import { connected, connectRole, endClient } from './client.ts';

export async function natsReady(config: MeterveilConfig, timeoutMs = 30_000): Promise<void> {
  const password = readSecrets(config.keys.secrets).services[PROVIDER_USER];
  const { ca } = brokerConnection(config);
  await Promise.all(
    config.broker.urls.map(async (url, i) => {
      const client = connectRole({ url, ca, username: PROVIDER_USER, password, clientId: `ready-${i}`, persistent: false });
      try {
        await connected(client, timeoutMs);
      } finally {
        await endClient(client);
      }
    }),
  );
}
