/** Starts a custodian: its share, its own SQLite record, and its broker connection. */
import { join } from 'node:path';
import { connected, connectRole, endClient } from '../broker/client.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { readSecrets, servicePassword } from '../config/secrets.ts';
import { AGGREGATE_TOPIC_FILTER } from '../protocol/topics.ts';
import type { KeyShare } from '../threshold/threshold-key.ts';
import { Custodian, type CustodianOptions } from './custodian.ts';
import { encodeResponse } from './messages.ts';
import { CustodianStore } from './store.ts';
import { custodianPartialTopic, custodianUser, DECRYPTION_REQUEST_TOPIC } from './topics.ts';

export interface RunningCustodian {
  custodian: Custodian;
  stop(): Promise<void>;
}

export function custodianStorePath(config: MeterveilConfig, index: number): string {
  return join(config.dataDir, `custodian-${index}.sqlite`);
}

export async function runCustodian(
  config: MeterveilConfig,
  share: KeyShare,
  options: Pick<CustodianOptions, 'waitForAggregateMs' | 'now' | 'log'> & { password?: string; storePath?: string } = {},
): Promise<RunningCustodian> {
  const user = custodianUser(share.index);
  const password = options.password ?? servicePassword(readSecrets(config.keys.secrets), user);
  // A custodian's record guards privacy: every commit survives a power loss.
  const store = new CustodianStore(options.storePath ?? custodianStorePath(config, share.index), { keyId: share.publicKey.keyId, index: share.index }, 'power');
  const custodian = new Custodian({ config, share, store, ...options });
  const client = connectRole({ url: config.broker.url, username: user, password });
  const outbound = custodianPartialTopic(share.index);
  client.on('message', (topic, payload) => {
    if (topic === DECRYPTION_REQUEST_TOPIC) {
      void custodian.handleRequest(payload).then((response) => {
        if (response) client.publish(outbound, Buffer.from(encodeResponse(response)), { qos: 1 });
      }).catch((e: Error) => options.log?.(`custodian ${share.index}: ${e.message}`));
    } else {
      custodian.noteAggregate(topic, payload);
    }
  });
  try {
    await connected(client);
    await client.subscribeAsync([AGGREGATE_TOPIC_FILTER, DECRYPTION_REQUEST_TOPIC], { qos: 1 });
  } catch (e) {
    client.end(true);
    store.close();
    throw e;
  }
  return {
    custodian,
    async stop() {
      await endClient(client);
      store.close();
    },
  };
}
