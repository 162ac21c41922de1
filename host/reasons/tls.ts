/** TLS on the broker and the API, and the certificates provisioning writes (host/tls/, docs/security.md). */
export const tlsReasons = {
  'plain-off-loopback':
    'a plain (unencrypted) MQTT or HTTP listener or URL on an address other than loopback; refused before anything listens or connects',
  'tls-files-missing': 'a certificate or private key that TLS needs and that does not exist or cannot be read',
  'bad-certificate': 'a certificate or key file that is not PEM, or a certificate that is not for the host it serves',
  'broker-certificate-refused':
    'a role whose TLS connection to the broker failed: the broker’s certificate is not signed by the deployment’s CA, has expired or does not name the host',
  'tls-handshake-failed':
    'a connection to the broker whose TLS handshake failed (a client that does not trust the CA, or speaks no TLS); closed',
} as const;
