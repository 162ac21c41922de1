/**
 * `meterveil simulate`: N meters, each the real firmware bundle inside XS, with synthetic
 * households, in virtual time as fast as the machine allows, against an MQTT broker (an embedded
 * aedes by default). Reports the XS work per meter (computrons per slot) and the peak live XS
 * slots. Without provisioned meter configs it generates a key, MAC keys and households, and
 * acknowledges reports itself (report-sink.ts); with configs from provisioning the pipeline's
 * aggregators acknowledge them.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { fail } from '../../firmware/errors.ts';
import { validateConfig } from '../../firmware/config/schema.ts';
import { publicKeyToJson } from '../../firmware/paillier/codec.ts';
import { generateKeyPair } from '../paillier/keygen.ts';
import { ReportSink } from './report-sink.ts';
import { XsFleet } from './xs-fleet.ts';

export interface SimulationOptions {
  meters: number;
  hours: number;
  /** MQTT broker; default: an embedded aedes on a free local port. */
  brokerUrl?: string;
  /** Provisioned meter configs (firmware schema); default: generated for `meters` meters. */
  configs?: Record<string, unknown>[];
  metersPerWorker?: number;
  startMs?: number;
  slotSeconds?: number;
  readings?: number;
  log?: (line: string) => void;
}

export interface MeterSummary {
  meterId: string;
  reports: number;
  acknowledged: number;
  computronsPerSlot: number;
  poolDry: number;
  outboxHeld: number;
  outboxDropped: number;
}

export interface SimulationSummary {
  meters: MeterSummary[];
  workers: number;
  metersPerWorker: number;
  peakLiveSlots: number;
  virtualHours: number;
  realSeconds: number;
  reportsReceived: number | undefined;
}

const HOUR_MS = 3_600_000;

/** Deterministic household parameters per meter: different homes, reproducible runs. */
function household(index: number) {
  const seed = (Math.imul(index + 1, 0x9e3779b1) >>> 0) ^ 0x5bd1e995;
  return { seed: seed >>> 0, yearlyKwh: 1500 + ((seed >>> 0) % 4500), utcOffsetMinutes: 60 };
}

export async function generatedConfigs(options: {
  meters: number;
  brokerUrl: string;
  slotSeconds: number;
  readings: number;
}): Promise<Record<string, unknown>[]> {
  const { publicKey } = await generateKeyPair(2048);
  const key = publicKeyToJson(publicKey);
  return Array.from({ length: options.meters }, (_, i) => ({
    meterId: `sim-meter-${String(i + 1).padStart(4, '0')}`,
    publicKey: key,
    macKey: randomBytes(32).toString('hex'),
    deviceKey: randomBytes(32).toString('hex'),
    broker: { url: options.brokerUrl },
    groups: [`sim-feeder-${Math.floor(i / 50) + 1}`],
    slotSeconds: options.slotSeconds,
    sampleMs: 1000,
    packing: { readings: options.readings, maxGroupSize: 1000 },
    sensor: { kind: 'simulated', ...household(i) },
  }));
}

async function startEmbeddedAedes(): Promise<{ url: string; close(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async close() {
      server.close();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const log = options.log ?? (() => {});
  if (!Number.isInteger(options.meters) || options.meters < 1) fail('bad-argument', '--meters must be a positive integer');
  if (!(options.hours > 0 && options.hours <= 24 * 366)) fail('bad-argument', '--hours must be a positive number');
  const slotSeconds = options.slotSeconds ?? 900;
  const readings = options.readings ?? 15;
  const metersPerWorker = options.metersPerWorker ?? 8;
  const startMs = options.startMs ?? Math.floor(Date.now() / 86_400_000) * 86_400_000;

  const embedded = options.brokerUrl ? undefined : await startEmbeddedAedes();
  const brokerUrl = options.brokerUrl ?? embedded!.url;
  const configs = options.configs
    ? options.configs.slice(0, options.meters)
    : await generatedConfigs({ meters: options.meters, brokerUrl, slotSeconds, readings });
  if (configs.length === 0) fail('bad-argument', 'no meter configs');
  const validated = configs.map((c) => validateConfig(c));
  const slotMs = Math.min(...validated.map((c) => c.slotSeconds)) * 1000;

  const sink = options.configs
    ? undefined
    : await ReportSink.connect(
        brokerUrl,
        new Map(validated.map((c) => [c.meterId, { macKey: c.macKey, deviceKey: c.deviceKey, groups: c.groups }])),
      );
  const fleet = await XsFleet.start({ configs, startMs, metersPerWorker, onLog: (id, line) => log(`${id}: ${line}`) });
  const began = Date.now();
  try {
    await fleet.boot();
    const endMs = startMs + options.hours * HOUR_MS;
    let nextProbe = startMs + HOUR_MS;
    await fleet.liveSlots();
    for (let t = startMs + slotMs; t <= endMs; t += slotMs) {
      await fleet.advanceTo(t);
      await fleet.settle();
      if (sink) await waitForAcks(fleet, sink);
      if (t >= nextProbe) {
        const slots = await fleet.liveSlots();
        log(`${new Date(t).toISOString()}: live XS slots ${slots} (peak ${fleet.peakLiveSlots})`);
        nextProbe += HOUR_MS;
      }
    }
    await fleet.liveSlots();
    const meters: MeterSummary[] = [];
    for (const id of fleet.meterIds()) {
      const s = await fleet.stats(id);
      meters.push({
        meterId: id,
        reports: s.reportsCreated,
        acknowledged: s.reportsAcknowledged,
        computronsPerSlot: s.reportsCreated > 0 ? Math.round(fleet.computrons(id) / s.reportsCreated) : 0,
        poolDry: s.poolDry,
        outboxHeld: s.outboxSize,
        outboxDropped: s.outboxDropped,
      });
    }
    for (const e of fleet.errors) log(`error: ${e.message}`);
    return {
      meters,
      workers: fleet.workers.length,
      metersPerWorker,
      peakLiveSlots: fleet.peakLiveSlots,
      virtualHours: options.hours,
      realSeconds: (Date.now() - began) / 1000,
      reportsReceived: sink?.distinct().length,
    };
  } finally {
    await fleet.close();
    await sink?.close();
    await embedded?.close();
  }
}

/** Gives acknowledgements a moment to come back before virtual time moves on (at most 2 s). */
/**
 * Virtual time waits for the real network: every report the meters published has reached the
 * sink and every acknowledgement it sent has reached its meter. The bound only matters on a
 * machine too loaded to deliver within it.
 */
async function waitForAcks(fleet: XsFleet, sink: ReportSink): Promise<void> {
  const deadline = Date.now() + 20_000;
  const total = (count: (id: string) => number) => fleet.meterIds().reduce((sum, id) => sum + count(id), 0);
  const sent = () => [...sink.acksSent.values()].reduce((a, b) => a + b, 0);
  while (Date.now() < deadline) {
    if (sink.reports.length >= total((id) => fleet.reportsPublished(id)) && total((id) => fleet.messagesDelivered(id)) >= sent()) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await fleet.settle();
}

export function formatSummary(summary: SimulationSummary): string {
  const lines = [
    `${summary.meters.length} meters in ${summary.workers} XS worker(s) (${summary.metersPerWorker} per worker), ` +
      `${summary.virtualHours} h of virtual time in ${summary.realSeconds.toFixed(1)} s ` +
      `(${((summary.virtualHours * 3600) / Math.max(summary.realSeconds, 0.001)).toFixed(0)}x real time)`,
    'meter                 reports  acked  computrons/slot  pool-dry  outbox  dropped',
  ];
  for (const m of summary.meters) {
    lines.push(
      `${m.meterId.padEnd(20)} ${String(m.reports).padStart(8)} ${String(m.acknowledged).padStart(6)} ${String(m.computronsPerSlot).padStart(16)} ` +
        `${String(m.poolDry).padStart(9)} ${String(m.outboxHeld).padStart(7)} ${String(m.outboxDropped).padStart(8)}`,
    );
  }
  lines.push(`peak live XS slots (largest worker): ${summary.peakLiveSlots}`);
  if (summary.reportsReceived !== undefined)
    lines.push(`distinct reports received and acknowledged by the report sink: ${summary.reportsReceived}`);
  return lines.join('\n');
}
