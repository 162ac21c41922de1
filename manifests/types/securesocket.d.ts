/**
 * The Moddable SDK's TLS socket ($(MODULES)/crypt/securesocket, from $(MODULES)/crypt/tls.json):
 * meterveil hands the class to the MQTT client, which constructs it with {host, port, secure}.
 */
declare module 'securesocket' {
  export default class SecureSocket {
    constructor(dictionary: { host: string; port: number; secure?: Record<string, unknown> });
  }
}
