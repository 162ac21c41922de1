/** Starts the provider from the config: private key, store, broker connection, HTTP API. */
import { join } from 'node:path';
import { readPrivateKeyFile } from '../paillier/key-files.ts';
import { connected, connectRole, endClient } from '../broker/client.ts';
import { PROVIDER_USER } from '../config/identities.ts';
import { slotPacking } from '../config/packing.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { readSecrets, servicePassword } from '../config/secrets.ts';
import { startHttpApi } from './http-api.ts';
import { Provider, type Decrypted } from './provider.ts';
import { ProviderStore } from './store.ts';

export interface RunningProvider {
  provider: Provider;
  store: ProviderStore;
  apiUrl: string;
  stop(): Promise<void>;
}

export function providerStorePath(config: MeterveilConfig): string {
  return join(config.dataDir, 'provider.sqlite');
}

export async function runProvider(
  config: MeterveilConfig,
  options: { log?: (line: string) => void; now?: () => number; onDecrypted?: (d: Decrypted) => void; httpPort?: number } = {},
): Promise<RunningProvider> {
  const privateKey = readPrivateKeyFile(config.keys.privateKey);
  const packing = slotPacking(config, privateKey.publicKey.bits);
  const secrets = readSecrets(config.keys.secrets);
  const store = new ProviderStore(providerStorePath(config), privateKey.publicKey.keyId, config.durability);
  const client = connectRole({ url: config.broker.url, username: PROVIDER_USER, password: servicePassword(secrets, PROVIDER_USER) });
  const provider = new Provider({ config, privateKey, packing, store, client, ...options });
  let api;
  try {
    await connected(client);
    await provider.start();
    api = await startHttpApi(
      { config, store, keyId: privateKey.publicKey.keyId, brokerConnected: () => client.connected, now: options.now },
      config.http.host,
      options.httpPort ?? config.http.port,
    );
  } catch (e) {
    client.end(true);
    store.close();
    throw e;
  }
  return {
    provider,
    store,
    apiUrl: api.url,
    async stop() {
      await api.close();
      await endClient(client);
      store.close();
    },
  };
}
