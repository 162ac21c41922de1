/**
 * Whether a host name or address stays on this machine: localhost, 127.0.0.0/8, ::1 (bracketed as
 * in a URL or not). Plain TCP and plain HTTP are allowed only there; anything else needs TLS.
 */
import { isIPv4 } from 'node:net';

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '[::1]') return true;
  return isIPv4(h) && h.startsWith('127.');
}
