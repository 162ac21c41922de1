/**
 * The configuration `meterveil start` writes on first run when none is given: three groups of
 * twenty simulated meters, five meters shared by two groups, short slots so the output moves;
 * with --cluster N, a NATS cluster of N nodes on loopback instead of the embedded broker; with
 * --scheme masked, masked meters, whose masks the provider removes alone or, with --custodians N,
 * N custodians together (n of n).
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

/** The masked scheme of the demo: the provider holds the mask keys, or each of `custodians` custodians holds its own. */
export interface DemoMasked {
  custodians?: number;
}

export interface DemoOptions {
  httpPort?: number;
  brokerPort?: number;
  threshold?: DemoThreshold;
  clusterNodes?: number;
  masked?: DemoMasked;
}

/** The NATS cluster's route ports of the demo, node i's DEMO_ROUTE_PORT + i; their MQTT ports follow the broker port. */
const DEMO_ROUTE_PORT = 6222;

/** One broker (aedes, embedded), or a NATS cluster of `clusterNodes` nodes on loopback. */
function demoBroker(brokerPort: number, clusterNodes?: number) {
  // TLS even on one machine: the certificates are made on first run (host/tls/files.ts).
  if (clusterNodes === undefined) return { url: `mqtts://127.0.0.1:${brokerPort}`, embedded: true };
  const nodes = Array.from({ length: clusterNodes }, (_, i) => i);
  return {
    urls: nodes.map((i) => `mqtts://127.0.0.1:${brokerPort + i}`),
    embedded: false,
    cluster: { routes: nodes.map((i) => `127.0.0.1:${DEMO_ROUTE_PORT + i}`) },
  };
}

const DECRYPTION_TIMINGS = { timeoutMs: 10_000, retryMs: 15_000 };

function demoDecryption(threshold?: DemoThreshold, masked?: DemoMasked) {
  const custodians = masked ? masked.custodians : threshold?.custodians;
  if (custodians === undefined) return { mode: 'single' };
  // Masked: n of n, each custodian removes its own part of every mask.
  return { mode: 'threshold', threshold: masked ? custodians : threshold!.threshold, custodians, ...DECRYPTION_TIMINGS };
}

export function demoConfig(options: DemoOptions = {}) {
  const { httpPort = 8080, brokerPort = 8883, threshold, clusterNodes, masked } = options;
  return {
    ...(masked ? { scheme: 'masked' } : {}),
    dataDir: '.',
    broker: demoBroker(brokerPort, clusterNodes),
    slotSeconds: 15,
    skewSeconds: 5,
    tolerance: 0.05,
    packing: { readings: 3, maxPowerWatts: 23_000, maxGroupSize: 100 },
    http: { host: '127.0.0.1', port: httpPort },
    metrics: { host: '127.0.0.1', port: 9464 },
    durability: 'process',
    provider: { decryption: demoDecryption(threshold, masked) },
    groups: [
      { id: 'north', members: range(1, 20), feeder: 'feeder-north', k: 5 },
      { id: 'south', members: range(16, 35), feeder: 'feeder-south', k: 5 },
      { id: 'east', members: range(36, 55), feeder: 'feeder-east', k: 5 },
    ],
  };
}

/** Writes the demo config at `path` unless a file is already there; returns whether it wrote. */
export function writeDemoConfigIfAbsent(path: string, options: Omit<DemoOptions, 'httpPort' | 'brokerPort'>): boolean {
  if (existsSync(path)) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(demoConfig(options), null, 2) + '\n');
  return true;
}
