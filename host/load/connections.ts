/**
 * MQTT connections of simulated meters over loopback. One source address offers about 28,000
 * ephemeral ports (Linux's 32768-60999), and a closed connection holds its port for a minute in
 * TIME_WAIT, so connections take their source address from a spread of 127.x addresses: the
 * held ones RESERVED_PER_ADDRESS to an address, the short-lived ones round-robin over others.
 */
import { connect as tcpConnect } from 'node:net';
import { MqttClient } from 'mqtt';
import { meterUser } from '../config/identities.ts';

/** Held connections per source address: well below its ~28,000 ports, leaving room for the roles. */
export const RESERVED_PER_ADDRESS = 10_000;
/** Source addresses the short-lived (rotating) connections cycle through. */
export const ROTATING_ADDRESSES = 16;

/** 127.0.1.<i+1> for held connection block i, 127.0.2.<j+1> for rotating address j: never the services' 127.0.0.1. */
export function heldSourceAddress(connectionIndex: number): string {
  return `127.0.1.${Math.floor(connectionIndex / RESERVED_PER_ADDRESS) + 1}`;
}

export function rotatingSourceAddress(turn: number): string {
  return `127.0.2.${(turn % ROTATING_ADDRESSES) + 1}`;
}

export interface MeterLogin {
  meterId: string;
  password: string;
}

/** A meter's own connection (its user name and client id) from `localAddress`; clean session, as the meters log in. */
export function meterConnection(url: string, login: MeterLogin, localAddress: string, keepalive = 60): MqttClient {
  const { hostname, port } = new URL(url);
  return new MqttClient(() => tcpConnect({ host: hostname, port: Number(port), localAddress }), {
    username: meterUser(login.meterId),
    password: login.password,
    clientId: meterUser(login.meterId),
    clean: true,
    protocolVersion: 4,
    keepalive,
    reconnectPeriod: 1000,
    connectTimeout: 30_000,
    resubscribe: true,
  });
}
