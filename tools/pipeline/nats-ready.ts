/**
 * Waits until every node of a test deployment's NATS cluster takes MQTT sessions: a node listens
 * before its JetStream has a leader, and refuses connections until then.
 */
import { PROVIDER_USER } from '../../host/config/identities.ts';
import type { MeterveilConfig } from '../../host/config/schema.ts';
import { readSecrets } from '../../host/config/secrets.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { brokerConnection } from '../../host/tls/files.ts';

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
