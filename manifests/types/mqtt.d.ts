/**
 * The Moddable SDK's classic MQTT client ($(MODULES)/network/mqtt/mqtt.js), which ships no
 * typings. Only what meterveil uses, as the SDK 8.2 source defines it.
 */
declare module 'mqtt' {
  interface MqttClientOptions {
    host: string;
    port?: number;
    id?: string;
    user?: string;
    password?: string;
    /** Keepalive in milliseconds (0: none). */
    timeout?: number;
    will?: { topic: string; message: string | ArrayBuffer; retain?: boolean; quality?: number };
    path?: string;
    Socket?: unknown;
    secure?: Record<string, unknown>;
  }

  class Client {
    constructor(options: MqttClientOptions);
    onReady?: () => void;
    onMessage?: (topic: string, data: ArrayBuffer) => void;
    onClose?: () => void;
    /** Throws before onReady or after the connection closed. QoS bits are sent but PUBACK is ignored. */
    publish(topic: string, data: string | ArrayBuffer, flags?: { quality?: 0 | 1 | 2; retain?: boolean }): void;
    /** QoS 0 subscription; throws when not connected. */
    subscribe(topic: string): void;
    unsubscribe(topic: string): void;
    close(immediate?: boolean): void;
  }

  export default Client;
}
