/**
 * The certificates `provision` writes: a fresh CA for the deployment, the broker's certificate for
 * every host the parties were given in a broker URL (the config's, each device's brokerUrl) and
 * loopback, and the API's for http.host and loopback. Each private key goes to its one holder:
 * the broker's to broker/tls/, the API's to provider/data/tls/, the CA's to ca/ for the operator
 * (who issues the next certificates with it, docs/security.md, and should keep it off the servers).
 */
import { parseBrokerUrl } from '../../firmware/config/broker-url.ts';
import { fail } from '../../firmware/errors.ts';
import { HOST_TRANSPORTS, refusePlainOffLoopback, type MeterveilConfig } from '../config/schema.ts';
import { createCa, issueServerCertificate, type PemPair } from '../tls/certificates.ts';
import { certificateHosts } from '../tls/files.ts';
import type { DeviceFile } from './devices.ts';

export interface ProvisionCertificates {
  ca: PemPair;
  broker: PemPair;
  api: PemPair;
}

const refuse = (field: string, explanation: string): never => fail('bad-device-settings', `${field}: ${explanation}`);

/** Every broker URL a party is provisioned with; a plain one off loopback is refused by name. */
export function provisionedBrokerUrls(config: MeterveilConfig, devices?: DeviceFile): string[] {
  const urls = [
    ...config.broker.urls,
    ...[devices?.defaults, ...(devices?.meters.values() ?? [])].flatMap((s) => (s?.brokerUrl ? [s.brokerUrl] : [])),
  ];
  for (const url of urls)
    refusePlainOffLoopback(
      parseBrokerUrl(url, 'brokerUrl', HOST_TRANSPORTS, refuse),
      config.broker.urls.includes(url) ? 'broker.url' : 'brokerUrl',
    );
  return [...new Set(urls)];
}

export async function provisionCertificates(config: MeterveilConfig, devices?: DeviceFile): Promise<ProvisionCertificates> {
  const brokerHosts = [
    ...provisionedBrokerUrls(config, devices).map((url) => parseBrokerUrl(url, 'brokerUrl', HOST_TRANSPORTS, refuse).host),
    // A NATS node dials the others' routes and checks their names.
    ...(config.broker.cluster?.routes.map((r) => r.host) ?? []),
  ].flatMap(certificateHosts);
  const ca = await createCa();
  const [broker, api] = await Promise.all([
    issueServerCertificate(ca, 'meterveil broker', [...new Set(brokerHosts)], true),
    issueServerCertificate(ca, 'meterveil provider API', certificateHosts(config.http.host)),
  ]);
  return { ca, broker, api };
}
