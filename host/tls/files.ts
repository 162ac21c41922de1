/**
 * The certificate files a deployment reads (config `tls`, default in the data folder's tls/):
 *   tls/ca.pem              the deployment CA's certificate: every party verifies the broker (and a
 *                           reader the API) against it; public, mode 0644
 *   tls/broker.pem, tls/broker-key.pem   the broker's certificate and private key (0600), the broker's alone
 *   tls/api.pem, tls/api-key.pem         the provider's HTTP API's, the provider's alone
 *   tls/ca-key.pem          the CA's private key, written by `meterveil start` only (the all-in-one
 *                           deployment, one machine); `provision` leaves it in OUT/ca/ for the operator
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import { brokerAddress, type MeterveilConfig } from '../config/schema.ts';
import { createCa, issueServerCertificate, LOOPBACK_NAMES, type PemPair } from './certificates.ts';

export function readPem(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return fail('tls-files-missing', `${what} ${path} cannot be read: run "meterveil start" once or provision the certificates`);
  }
  if (!/-----BEGIN [A-Z ]+-----/.test(text)) fail('bad-certificate', `${what} ${path} is not PEM`);
  return text;
}

export function writePem(path: string, text: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, text, { flag: 'wx', mode });
}

/**
 * The hosts a certificate names: the configured one, and loopback for a client on the same
 * machine. A wildcard address (0.0.0.0, ::) names no host a client dials: it is left out, and a
 * server bound to one needs the name its clients use in a broker URL (provision --devices) or a
 * certificate issued for it (docs/security.md).
 */
export function certificateHosts(host: string): string[] {
  const bare = host.replace(/^\[|\]$/g, '');
  return [...new Set([...(bare === '0.0.0.0' || bare === '::' ? [] : [bare]), ...LOOPBACK_NAMES])];
}

/** Whether the roles reach the broker over TLS (mqtts://), which they then check against tls.ca. */
export function brokerUsesTls(config: MeterveilConfig): boolean {
  return brokerAddress(config).scheme === 'mqtts';
}

/** Where a role connects (host/mqtt/client.ts): the URL, the tier's others to move to, and for mqtts:// the CA to verify the broker with. */
export function brokerConnection(config: MeterveilConfig): { url: string; urls: readonly string[]; ca?: string } {
  return {
    url: config.broker.url,
    urls: config.broker.urls,
    ...(brokerUsesTls(config) ? { ca: readPem(config.tls.ca, 'the CA certificate') } : {}),
  };
}

export function brokerServerTls(config: MeterveilConfig): PemPair | undefined {
  if (!brokerUsesTls(config)) return undefined;
  return { cert: readPem(config.tls.brokerCert, "the broker's certificate"), key: readPem(config.tls.brokerKey, "the broker's key") };
}

export function apiServerTls(config: MeterveilConfig): PemPair | undefined {
  if (!config.http.tls) return undefined;
  return { cert: readPem(config.tls.apiCert, "the API's certificate"), key: readPem(config.tls.apiKey, "the API's key") };
}

/**
 * `meterveil start`: the CA and the certificates the config uses (the broker's for mqtts://, the
 * API's for http.tls), created on first run in the data folder and never overwritten; a missing
 * one is issued from the CA kept there. Returns the files it wrote.
 */
export async function ensureTlsFiles(config: MeterveilConfig): Promise<string[]> {
  const { tls } = config;
  const leaves = [
    ...(brokerUsesTls(config)
      ? [{ cert: tls.brokerCert, key: tls.brokerKey, name: 'meterveil broker', host: brokerAddress(config).host, client: true }]
      : []),
    ...(config.http.tls
      ? [{ cert: tls.apiCert, key: tls.apiKey, name: 'meterveil provider API', host: config.http.host, client: false }]
      : []),
  ];
  const missing = leaves.filter((leaf) => !existsSync(leaf.cert) || !existsSync(leaf.key));
  if (missing.length === 0) return [];
  const caKeyPath = join(dirname(tls.ca), 'ca-key.pem');
  const written: string[] = [];
  let ca: PemPair;
  if (existsSync(tls.ca)) {
    if (!existsSync(caKeyPath)) fail('tls-files-missing', `${tls.ca} exists but not its key ${caKeyPath}: cannot issue ${missing[0].cert}`);
    ca = { cert: readPem(tls.ca, 'the CA'), key: readPem(caKeyPath, "the CA's key") };
  } else {
    if (leaves.some((leaf) => existsSync(leaf.cert)))
      fail('tls-files-missing', `certificates exist but not the CA ${tls.ca} that signed them; refusing to make a new CA over them`);
    ca = await createCa();
    writePem(caKeyPath, ca.key, 0o600);
    writePem(tls.ca, ca.cert, 0o644);
    written.push(tls.ca);
  }
  for (const leaf of missing) {
    for (const path of [leaf.cert, leaf.key])
      if (existsSync(path)) fail('tls-files-missing', `${path} exists without its pair; move it away to issue a new pair`);
    const pair = await issueServerCertificate(ca, leaf.name, certificateHosts(leaf.host), leaf.client);
    writePem(leaf.key, pair.key, 0o600);
    writePem(leaf.cert, pair.cert, 0o644);
    written.push(leaf.cert);
  }
  return written;
}
