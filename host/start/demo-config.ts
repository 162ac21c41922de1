/**
 * The configuration `meterveil start` writes on first run when none is given: three groups of
 * twenty simulated meters, five meters shared by two groups, short slots so the output moves.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const meter = (i: number) => `m${String(i).padStart(3, '0')}`;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => meter(from + i));

/** Threshold mode of the demo: custodians 1..custodians, any `threshold` of them decrypt. */
export interface DemoThreshold {
  threshold: number;
  custodians: number;
}

export function demoConfig(httpPort = 8080, brokerPort = 8883, threshold?: DemoThreshold) {
  return {
    dataDir: '.',
    // TLS even on one machine: the certificates are made on first run (host/tls/files.ts).
    broker: { url: `mqtts://127.0.0.1:${brokerPort}`, embedded: true },
    slotSeconds: 15,
    skewSeconds: 5,
    tolerance: 0.05,
    packing: { readings: 3, maxPowerWatts: 23_000, maxGroupSize: 100 },
    http: { host: '127.0.0.1', port: httpPort },
    metrics: { host: '127.0.0.1', port: 9464 },
    durability: 'process',
    provider: { decryption: threshold ? { mode: 'threshold', ...threshold, timeoutMs: 10_000, retryMs: 15_000 } : { mode: 'single' } },
    groups: [
      { id: 'north', members: range(1, 20), feeder: 'feeder-north', k: 5 },
      { id: 'south', members: range(16, 35), feeder: 'feeder-south', k: 5 },
      { id: 'east', members: range(36, 55), feeder: 'feeder-east', k: 5 },
    ],
  };
}

/** Writes the demo config at `path` unless a file is already there; returns whether it wrote. */
export function writeDemoConfigIfAbsent(path: string, threshold?: DemoThreshold): boolean {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(demoConfig(8080, 8883, threshold), null, 2) + '\n');
  return true;
}
