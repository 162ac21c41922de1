/**
 * The deployment's own certificate authority and the certificates it issues: one for the broker,
 * one for the provider's HTTP API. RSA 2048 with SHA-256 signatures, because the meters verify the
 * broker's chain with the Moddable SDK's TLS, which verifies RSA signatures (its ECDSA support is
 * not in every port). Generated with WebCrypto through @peculiar/x509: no openssl binary needed.
 * The CA is a path-length-0 CA (it signs leaf certificates only); a leaf names its hosts as subject
 * alternative names, which is what TLS clients check (the common name is not).
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
const DAY_MS = 86_400_000;
/** The CA outlives the certificates it issues, so that rotating a leaf does not need a new CA on every meter. */
export const CA_DAYS = 10 * 365;
export const LEAF_DAYS = 2 * 365;

/** A certificate and its private key, both PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

function serial(): string {
  // Positive (high bit clear) and 16 bytes: unique without a counter.
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privatePem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importPrivatePem(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), ALGORITHM, false, ['sign']);
}

const validity = (days: number) => ({ notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + days * DAY_MS) });

export async function createCa(name = 'meterveil deployment CA'): Promise<PemPair> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [name] }],
    ...validity(CA_DAYS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      // Its own key identifier again: the Moddable SDK finds a chain's trust anchor by it.
      await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await privatePem(keys.privateKey) };
}

/**
 * A server certificate for `hosts` (names and IP addresses, IPv6 without brackets), signed by the
 * CA, followed by the CA's certificate: a server sends the chain, and the Moddable SDK checks the
 * host name only in a chain of two or more. Its private key is made here and handed to the one
 * party that serves with it. `client`: it also authenticates its holder as a client, as the nodes of a
 * NATS cluster do on their routes to each other (mutual TLS).
 */
export async function issueServerCertificate(ca: PemPair, commonName: string, hosts: string[], client = false): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const keys = await keyPair();
  const names = [...new Set(hosts)].map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [commonName] }],
    issuer: caCert.subject,
    ...validity(LEAF_DAYS),
    publicKey: keys.publicKey,
    signingKey: await importPrivatePem(ca.key),
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, ...(client ? [x509.ExtendedKeyUsage.clientAuth] : [])]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: cert.toString('pem') + '\n' + ca.cert, key: await privatePem(keys.privateKey) };
}

/** The hosts every certificate names besides the configured ones: a client on the same machine. */
export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** A certificate in PEM as DER in hex, the form a meter's configuration carries it in (broker.ca). */
export function pemToDerHex(pem: string): string {
  return Buffer.from(x509.PemConverter.decodeFirst(pem)).toString('hex');
}

/** broker.ca of a meter's configuration as the PEM that Node's TLS takes. */
export function derHexToPem(hex: string): string {
  return x509.PemConverter.encode(Buffer.from(hex, 'hex'), 'CERTIFICATE') + '\n';
}
