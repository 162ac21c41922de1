/**
 * Puts a signed key announcement on the broker: retained on meterveil/v1/keys/announcements, as
 * the provider (the only party the ACL lets publish there), so every meter gets it at its next
 * connect. The announcement is checked first: a malformed one is never published.
 */
import { fail } from '../../firmware/errors.ts';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import { connected, connectRole, endClient } from '../mqtt/client.ts';
import { brokerConnection } from '../tls/files.ts';
import { PROVIDER_USER } from '../config/identities.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { readSecrets, servicePassword } from '../config/secrets.ts';

export async function publishKeyAnnouncement(config: MeterveilConfig, announcement: Record<string, unknown>): Promise<void> {
  if (announcement.scheme !== 'meterveil-key-announcement') fail('malformed-announcement', 'not a key announcement');
  const secrets = readSecrets(config.keys.secrets);
  // Its own client id under the provider's user: the running provider keeps its session.
  const client = connectRole({
    ...brokerConnection(config),
    username: PROVIDER_USER,
    password: servicePassword(secrets, PROVIDER_USER),
    clientId: `${PROVIDER_USER}/announce-${process.pid}`,
    persistent: false,
  });
  try {
    await connected(client);
    await client.publishAsync(KEY_ANNOUNCEMENT_TOPIC, JSON.stringify(announcement), { qos: 1, retain: true });
  } finally {
    await endClient(client);
  }
}
