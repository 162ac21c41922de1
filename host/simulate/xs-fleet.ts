/**
 * Runs meters as the real firmware bundle (firmware/platform/xs-sim/main.ts) inside xsnap-worker
 * processes, several meters per worker, in virtual time driven from here. Node holds what the
 * device's hardware would: each meter's durable storage (it survives reboots), its MQTT client
 * (MQTT.js against a real broker) and the entropy source (crypto.randomBytes).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { brokerUrlAt } from '../../firmware/config/broker-url.ts';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import type { MeterStats } from '../../firmware/meter/meter.ts';
import type { Action } from '../../firmware/platform/xs-sim/bridge.ts';
import { bundle, startXsWorker, type XsWorker } from '../../host/xs/harness.ts';
import { NodeMqttPort } from './node-mqtt-port.ts';
import { reportTopicParts } from '../protocol/topics.ts';

export const FIRMWARE_ENTRY = fileURLToPath(new URL('../../firmware/platform/xs-sim/main.ts', import.meta.url));

interface Reply {
  result: unknown;
  actions: { meter: string; action: Action }[];
}

interface SimulatedMeter {
  id: string;
  rawConfig: Record<string, unknown>;
  worker: XsWorker;
  storage: Map<string, Uint8Array>;
  mqtt: NodeMqttPort | undefined;
  running: boolean;
  /** Its network is gone (a Wi-Fi loss): the connection dropped and every attempt fails. */
  offline: boolean;
  computrons: number;
  messagesDelivered: number;
  reportsPublished: number;
  /** Connections it has dialled: as on the device, each one after the first dials the next broker URL. */
  connections: number;
}

export interface XsFleetOptions {
  /** Raw meter configurations (as provisioning writes them); meterId is each meter's name. */
  configs: Record<string, unknown>[];
  startMs: number;
  metersPerWorker?: number;
  /** Storage to start from, per meter (e.g. saved by an earlier run). */
  storage?: Map<string, Map<string, Uint8Array>>;
  onLog?: (meterId: string, line: string) => void;
}

export class XsFleet {
  private readonly meters = new Map<string, SimulatedMeter>();
  private readonly pending = new Set<Promise<unknown>>();
  private nowMs: number;
  private peakSlots = 0;
  private readonly probes = new Map<XsWorker, { costPerCall: number; calls: number }>();
  readonly errors: Error[] = [];

  private constructor(
    readonly workers: XsWorker[],
    private readonly options: XsFleetOptions,
  ) {
    this.nowMs = options.startMs;
  }

  static async start(options: XsFleetOptions): Promise<XsFleet> {
    const perWorker = options.metersPerWorker ?? 8;
    if (!Number.isInteger(perWorker) || perWorker < 1) fail('bad-argument', 'metersPerWorker must be a positive integer');
    const code = await bundle(FIRMWARE_ENTRY);
    const workerCount = Math.ceil(options.configs.length / perWorker);
    const workers = await Promise.all(
      Array.from({ length: workerCount }, () =>
        startXsWorker({
          bundle: code,
          handleCommand: (command) => {
            if (command?.op !== 'random') fail('unknown-command', `XS asked for ${String(command?.op)}`);
            const length = command.length;
            if (!Number.isInteger(length) || length < 1 || length > 4096) fail('bad-random-request', 'random length must be 1..4096');
            return randomBytes(length).toString('hex');
          },
        }),
      ),
    );
    const fleet = new XsFleet(workers, options);
    options.configs.forEach((rawConfig, i) => {
      const id = String(rawConfig.meterId);
      if (fleet.meters.has(id)) fail('duplicate-meter', `meter ${id} appears twice`);
      fleet.meters.set(id, {
        id,
        rawConfig,
        worker: workers[Math.floor(i / perWorker)],
        storage: new Map(options.storage?.get(id) ?? []),
        mqtt: undefined,
        running: false,
        offline: false,
        computrons: 0,
        messagesDelivered: 0,
        reportsPublished: 0,
        connections: 0,
      });
    });
    return fleet;
  }

  get now(): number {
    return this.nowMs;
  }

  meterIds(): string[] {
    return [...this.meters.keys()];
  }

  private meter(id: string): SimulatedMeter {
    const m = this.meters.get(id);
    if (!m) fail('unknown-meter', `no meter ${id}`);
    return m;
  }

  /** Boots every meter (or the given ones); a meter whose configuration is refused stays off and the error says why. */
  async boot(ids: string[] = this.meterIds()): Promise<void> {
    for (const id of ids) {
      const m = this.meter(id);
      const storage = [...m.storage].map(([key, value]) => [key, bytesToHex(value)]);
      await this.issue(m, { op: 'boot', meter: id, config: m.rawConfig, startMs: this.nowMs, storage });
      m.running = true;
    }
  }

  /** Moves every running meter's clock to `toMs`, firing its samples and slot closes. */
  async advanceTo(toMs: number): Promise<void> {
    if (toMs < this.nowMs) fail('clock-went-back', 'virtual time only moves forward');
    this.nowMs = toMs;
    // Workers run in parallel (one process each); the meters of one worker take turns.
    await Promise.all(
      this.workers.map(async (worker) => {
        for (const m of this.meters.values()) {
          if (m.worker === worker && m.running) await this.issue(m, { op: 'advance', meter: m.id, toMs });
        }
      }),
    );
  }

  /** Power cycle: the meter's RAM is gone (its objects are dropped in XS), its storage stays. */
  async reboot(id: string): Promise<void> {
    await this.powerOff(id);
    await this.boot([id]);
  }

  async powerOff(id: string): Promise<void> {
    const m = this.meter(id);
    await this.issue(m, { op: 'stop', meter: id });
    m.mqtt?.disconnect();
    m.mqtt = undefined;
    m.running = false;
  }

  /** A Wi-Fi loss: the meter's connection drops, and each connection attempt fails until restoreNetwork. */
  loseNetwork(id: string): void {
    const m = this.meter(id);
    m.offline = true;
    m.mqtt?.disconnect();
  }

  restoreNetwork(id: string): void {
    this.meter(id).offline = false;
  }

  async stats(id: string): Promise<MeterStats> {
    return (await this.issue(this.meter(id), { op: 'stats', meter: id })) as MeterStats;
  }

  /** Computrons spent in XS on this meter's behalf so far. */
  computrons(id: string): number {
    return this.meter(id).computrons;
  }

  /** Reports this meter's firmware handed to the broker so far, retransmissions included. */
  reportsPublished(id: string): number {
    return this.meter(id).reportsPublished;
  }

  /** MQTT messages (acknowledgements) handed to this meter's firmware so far. */
  messagesDelivered(id: string): number {
    return this.meter(id).messagesDelivered;
  }

  storageOf(id: string): Map<string, Uint8Array> {
    return new Map(this.meter(id).storage);
  }

  /**
   * Live XS slots after a full collection, the largest over the fleet's workers. Each
   * measurement itself leaves a slot or so behind in the worker (the evaluated script); that
   * cost is measured once per worker at the first call and discounted, so that what remains is
   * the firmware's own.
   */
  async liveSlots(): Promise<number> {
    let max = 0;
    for (const w of this.workers) {
      let probe = this.probes.get(w);
      if (!probe) {
        const first = await w.liveSlots();
        const second = await w.liveSlots();
        probe = { costPerCall: Math.max(0, second - first), calls: 2 };
        this.probes.set(w, probe);
      }
      const raw = await w.liveSlots();
      probe.calls += 1;
      max = Math.max(max, raw - probe.costPerCall * (probe.calls - 1));
    }
    this.peakSlots = Math.max(this.peakSlots, max);
    return max;
  }

  get peakLiveSlots(): number {
    return this.peakSlots;
  }

  /** Waits until the broker has taken every publish and every event from the network reached XS. */
  async settle(): Promise<void> {
    for (;;) {
      const outstanding = [...this.pending];
      await Promise.all([...outstanding, ...[...this.meters.values()].map((m) => m.mqtt?.flushed())]);
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending.size === 0) return;
    }
  }

  async close(): Promise<void> {
    for (const m of this.meters.values()) m.mqtt?.disconnect();
    await Promise.allSettled([...this.pending]);
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private async issue(m: SimulatedMeter, command: Record<string, unknown>): Promise<unknown> {
    let reply: Reply;
    try {
      reply = (await m.worker.issue(command)) as Reply;
    } finally {
      m.computrons += m.worker.computrons;
    }
    for (const { meter, action } of reply.actions) this.apply(this.meter(meter), action);
    return reply.result;
  }

  /** Network events reach XS asynchronously; they are tracked so settle() can wait for them. */
  private deliver(m: SimulatedMeter, command: Record<string, unknown>): void {
    const done = this.issue(m, command).catch((error) => {
      this.errors.push(error as Error);
    });
    this.pending.add(done);
    done.finally(() => this.pending.delete(done));
  }

  private apply(m: SimulatedMeter, action: Action): void {
    switch (action.kind) {
      case 'set':
        m.storage.set(action.key, hexToBytes(action.value));
        return;
      case 'delete':
        m.storage.delete(action.key);
        return;
      case 'log':
        this.options.onLog?.(m.id, action.line);
        return;
      case 'connect': {
        if (m.offline) {
          // As a connection attempt without a network: it fails, and the firmware backs off.
          m.mqtt = undefined;
          setTimeout(() => m.running && this.deliver(m, { op: 'disconnected', meter: m.id }), 100);
          return;
        }
        const broker = m.rawConfig.broker as { url?: string; urls?: string[]; username?: string; password?: string; ca?: string };
        m.mqtt?.disconnect();
        const port = new NodeMqttPort({
          url: brokerUrlAt({ url: broker.url ?? broker.urls![0], urls: broker.urls }, m.connections++),
          clientId: m.id,
          username: broker.username,
          password: broker.password,
          ca: broker.ca,
        });
        m.mqtt = port;
        port.connect({
          onConnect: () => m.mqtt === port && this.deliver(m, { op: 'connected', meter: m.id }),
          onDisconnect: () => m.mqtt === port && m.running && this.deliver(m, { op: 'disconnected', meter: m.id }),
          onMessage: (topic, payload) => {
            if (m.mqtt !== port) return;
            this.deliver(m, { op: 'message', meter: m.id, topic, payload: bytesToHex(payload) });
            m.messagesDelivered += 1;
          },
        });
        return;
      }
      case 'disconnect':
        m.mqtt?.disconnect();
        m.mqtt = undefined;
        return;
      case 'publish':
        if (m.mqtt?.publish(action.topic, hexToBytes(action.payload), action.retain) && reportTopicParts(action.topic))
          m.reportsPublished += 1;
        return;
      case 'subscribe':
        m.mqtt?.subscribe(action.topic);
        return;
    }
  }
}
