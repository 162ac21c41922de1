/**
 * Certificates for tests: one CA with a broker and an API certificate for loopback, made once per
 * process (three RSA 2048 keys) and written into each test deployment's tls/ folder.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TlsPaths } from '../../host/config/schema.ts';
import type { ProvisionCertificates } from '../../host/provision/certificates.ts';
import { provision } from '../../host/provision/cli.ts';
import { createCa, issueServerCertificate, LOOPBACK_NAMES } from '../../host/tls/certificates.ts';

export type TlsFixture = ProvisionCertificates;

let fixture: Promise<TlsFixture> | undefined;

export const sharedTls = (): Promise<TlsFixture> =>
  (fixture ??= (async () => {
    const ca = await createCa('meterveil test CA');
    const [broker, api] = await Promise.all([
      issueServerCertificate(ca, 'test broker', LOOPBACK_NAMES, true),
      issueServerCertificate(ca, 'test API', LOOPBACK_NAMES),
    ]);
    return { ca, broker, api };
  })());

export function writeTlsFixture(paths: TlsPaths, f: TlsFixture): void {
  const files: [string, string, number][] = [
    [paths.ca, f.ca.cert, 0o644],
    [paths.brokerCert, f.broker.cert, 0o644],
    [paths.brokerKey, f.broker.key, 0o600],
    [paths.apiCert, f.api.cert, 0o644],
    [paths.apiKey, f.api.key, 0o600],
  ];
  for (const [path, text, mode] of files) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, text, { mode });
  }
}

/** `provision` with the shared certificates instead of a fresh CA (three RSA keys) per call. */
export async function testProvision(configPath: string, outDir: string, signingPublicPath?: string, devicesPath?: string) {
  return provision(configPath, outDir, signingPublicPath, devicesPath, { certificates: await sharedTls() });
}
