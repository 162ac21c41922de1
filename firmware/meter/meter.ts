/**
 * The metering loop: sample power every sampleMs, integrate it into wall-clock-aligned
 * sub-slots, and at every slot boundary pack the sub-slot readings, encrypt them with randomness
 * from the pool, authenticate the report, store it in the outbox and publish it. Acknowledgements
 * from every group the meter belongs to remove a report; reconnects and reboots replay the rest.
 * The pool is refilled between samples, a bounded number of modular products per turn
 * (randomness.ts). Sampling and closing slots are measuring.ts's, the MQTT session, resends and
 * acknowledgements delivery.ts's, both shared with the masked meter (firmware/masked/meter.ts).
 * No plaintext reading leaves this module except as the ciphertext, and none is logged.
 */
import { MeterveilError, type Reason } from '../errors.ts';
import { KEY_ANNOUNCEMENT_TOPIC } from '../keys/announcement.ts';
import { slotPackingFor, subSlotMs as subSlotLengthMs } from '../config/packing.ts';
import type { SlotPacking } from '../paillier/packing.ts';
import type { PaillierPublicKey } from '../paillier/public-key.ts';
import type { MeterConfig } from '../config/schema.ts';
import type { Platform, SensorStats, TimerHandle } from '../platform/port.ts';
import { deriveCustodianKey, deriveStatusKey } from '../protocol/meter-keys.ts';
import { encodeMeterStatus, meterStatusTopic } from '../protocol/meter-status.ts';
import { Delivery } from './delivery.ts';
import type { SlotReadings } from './energy.ts';
import { Measuring } from './measuring.ts';
import { meterStatusOf } from './health.ts';
import { KeySchedule } from './key-schedule.ts';
import { defaultOutboxCapacity, Outbox } from './outbox.ts';
import { combStorageBytes } from '../paillier/comb.ts';
import { defaultCombShape, defaultStepProducts, defaultTableShape, MeterRandomness, productsPerEntry } from './randomness.ts';
import { sealSlotReport } from './seal.ts';
import { SealJob } from './seal-job.ts';

export interface MeterStats {
  samples: number;
  /** Samples the sensor could not give; their interval adds no energy. */
  sensorMisses: number;
  /** The bus counters of a sensor that keeps them (the PZEM-004T: requests, misses by reason, re-initialisations). */
  sensor?: SensorStats;
  /** Samples outside [0, maxPowerWatts], clamped to the range so packing can never overflow. */
  clampedSamples: number;
  reportsCreated: number;
  /** Slots not reported because a report for them already exists (e.g. a reboot just after a close). */
  slotsAlreadyReported: number;
  /**
   * The slot a meter with nothing to resume began measuring in after its start (first boot): not
   * reported, since the household's energy before the start is missing from it; the first report is
   * the first slot measured whole.
   */
  slotsStartedMidSlot: number;
  publishes: number;
  reportsAcknowledged: number;
  acksRefused: number;
  acksRejected: Partial<Record<Reason, number>>;
  /**
   * Writes the storage had no room for even after the outbox gave up its reports: a checkpoint
   * (a reboot would lose the open slot's part) or the outbox counters. Measuring goes on.
   */
  storageFull: number;
  /** Slots that closed with the pool empty: their report waited for randomness computed in steps (none is ever reused). */
  poolDry: number;
  poolRefills: number;
  /** Closed slots whose report waits for randomness. */
  awaitingRandomness: number;
  /** The key whose comb table is in storage (complete or being built), and the tables built since start. */
  combTableKeyId: string | null;
  combTablesBuilt: number;
  /** Precomputed r^n under the key of the open slot. */
  poolSize: number;
  /** Precomputed r^n under an announced key that is not in use yet. */
  nextPoolSize: number;
  /** The key the open slot will be encrypted under, and the announced one that follows it. */
  keyId: string;
  nextKeyId: string | null;
  nextKeySlot: number | null;
  announcementsAccepted: number;
  /** The retained announcement of a key already known, seen again after a reconnect. */
  announcementsRepeated: number;
  announcementsRefused: Partial<Record<Reason, number>>;
  connects: number;
  disconnects: number;
  connected: boolean;
  outboxSize: number;
  outboxDropped: number;
}

export function subSlotMs(config: MeterConfig): number {
  return subSlotLengthMs(config.slotSeconds, config.packing);
}

/** The packing every party must use for this meter's reports (the provider needs the same bounds). */
export function packingFor(config: MeterConfig): SlotPacking {
  return slotPackingFor(config.slotSeconds, config.packing, config.publicKey.bits);
}

export class Meter {
  private readonly packing: SlotPacking;
  private readonly keys: KeySchedule;
  private readonly randomness: MeterRandomness;
  private readonly stepProducts: number;
  /** Closed slots whose report waits for fresh randomness, oldest first. */
  private readonly awaitingRandomness: SlotReadings[] = [];
  /** Reports being MACed a part a turn (seal-job.ts), oldest first. */
  private readonly sealing: SealJob[] = [];
  private readonly outbox: Outbox;
  private readonly measuring: Measuring;
  private readonly delivery: Delivery;
  /** Per custodian, in index order: the key only that custodian shares with this meter. */
  private readonly custodianKeys: Uint8Array[] = [];
  /** The provider's alone: it checks the health status with it. */
  private readonly statusKey: Uint8Array;
  private statusTimer: TimerHandle | undefined;
  private startedMs = 0;
  private running = false;
  private readonly counters = {
    reportsCreated: 0,
    storageFull: 0,
    poolDry: 0,
    announcementsAccepted: 0,
    announcementsRepeated: 0,
  };
  private readonly announcementsRefused: Partial<Record<Reason, number>> = {};
  private readonly storageRefusing = new Set<string>();

  constructor(
    private readonly platform: Platform,
    private readonly config: MeterConfig,
  ) {
    this.packing = packingFor(config);
    this.keys = new KeySchedule(
      platform.storage,
      config.publicKey,
      config.signingKey,
      this.packing,
      (line) => this.log(line),
      config.cosigners,
    );
    const bits = config.publicKey.bits;
    const tableStorage = platform.tableStorage;
    const comb =
      config.combHeight === 0
        ? undefined
        : config.combHeight === undefined
          ? tableStorage
            ? defaultTableShape(tableStorage, bits)
            : defaultCombShape(platform.storage.capacityBytes, bits)
          : { height: config.combHeight, blocks: config.combBlocks ?? 1 };
    // A table in the meter's own storage takes room the outbox would otherwise have.
    const tableBytes = comb && !tableStorage ? combStorageBytes(bits, Math.ceil(bits / 2), comb) : 0;
    const samplesPerSlot = (config.slotSeconds * 1000) / config.sampleMs;
    this.stepProducts = config.stepProducts ?? defaultStepProducts(config.publicKey, samplesPerSlot);
    this.randomness = new MeterRandomness(tableStorage ?? platform.storage, platform.randomBytes, {
      poolCapacity: config.poolCapacity,
      stepProducts: this.stepProducts,
      comb,
      log: (line) => this.log(line),
    });
    this.outbox = new Outbox(
      platform.storage,
      config.outboxCapacity ?? defaultOutboxCapacity(platform.storage.capacityBytes - tableBytes, bits, config.custodians),
    );
    this.measuring = new Measuring(
      {
        clock: platform.clock,
        sensor: platform.sensor,
        storage: platform.storage,
        log: (line) => this.log(line),
        closeSlots: (closed) => this.closeSlots(closed),
        checkpoint: () => this.checkpoint(),
        sampled: (now, closedSlots) => this.sampled(now, closedSlots),
      },
      config,
    );
    this.delivery = new Delivery(
      {
        clock: platform.clock,
        mac: platform.mac,
        mqtt: platform.mqtt,
        jitterByte: () => platform.randomBytes(1)[0],
        log: (line) => this.log(line),
        // Retained: the broker hands over the latest announcement at every (re)connect.
        topics: config.signingKey ? [KEY_ANNOUNCEMENT_TOPIC] : [],
        message: (topic, payload) => {
          if (topic !== KEY_ANNOUNCEMENT_TOPIC) return false;
          this.onAnnouncement(payload);
          return true;
        },
        connected: () => this.publishStatus(),
      },
      config,
      this.outbox,
    );
    for (let index = 1; index <= config.custodians; index++)
      this.custodianKeys.push(deriveCustodianKey(config.deviceKey, index, platform.mac));
    this.statusKey = deriveStatusKey(config.deviceKey, platform.mac);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedMs = this.platform.clock.now();
    const { config } = this;
    const samplesPerSlot = (config.slotSeconds * 1000) / config.sampleMs;
    const perEntry = productsPerEntry(config.publicKey);
    if (samplesPerSlot * this.stepProducts < perEntry) {
      this.log(
        `pool refill (${this.stepProducts} products per sample, ${samplesPerSlot} samples per slot, about ${perEntry} products per entry) cannot keep up with one report per slot`,
      );
    }
    this.log(
      `started: slot ${config.slotSeconds} s, sample ${config.sampleMs} ms, ${config.packing.readings} reading(s) per report, groups ${config.groups.join(',')}, outbox ${this.outbox.size} held`,
    );
    this.delivery.start();
    this.measuring.start();
  }

  /** Stops timers and the MQTT session; the outbox and checkpoint stay in storage. */
  stop(): void {
    this.running = false;
    this.measuring.stop();
    this.platform.clock.clearTimer(this.statusTimer);
    this.statusTimer = undefined;
    this.delivery.stop();
  }

  stats(): MeterStats {
    const slot = this.currentSlot();
    const next = this.keys.upcoming(slot)[0];
    const key = this.keys.keyFor(slot);
    return {
      ...this.measuring.counters,
      ...this.counters,
      ...this.delivery.counters,
      acksRejected: { ...this.delivery.acksRejected },
      announcementsRefused: { ...this.announcementsRefused },
      keyId: key.keyId,
      nextKeyId: next ? next.publicKey.keyId : null,
      nextKeySlot: next ? next.effectiveSlot : null,
      poolRefills: this.randomness.refills,
      poolSize: this.randomness.poolSize(key.keyId),
      nextPoolSize: next ? this.randomness.poolSize(next.publicKey.keyId) : 0,
      awaitingRandomness: this.awaitingRandomness.length,
      combTableKeyId: this.randomness.tableKeyId ?? null,
      combTablesBuilt: this.randomness.tablesBuilt,
      connected: this.delivery.isConnected(),
      outboxSize: this.outbox.size,
      outboxDropped: this.outbox.dropped,
      ...(this.platform.sensor.stats ? { sensor: this.platform.sensor.stats() } : {}),
    };
  }

  private log(line: string): void {
    this.platform.log(`meter ${this.config.meterId}: ${line}`);
  }

  private checkpoint(): void {
    this.unlessStorageFull('checkpoint', 'checkpoint not saved', () => this.measuring.saveCheckpoint());
  }

  /** The rest of a sample's turn. */
  private sampled(now: number, closedSlots: number): void {
    this.delivery.resendOverdue(now);
    // One heavy part a turn where the MAC is portable: a closing turn has packed and encrypted, a
    // report being MACed takes the next turns' step, and the randomness work waits for those.
    if (this.sealing.length > 0 && closedSlots === 0) this.stepSealing();
    else if (this.sealing.length === 0) this.workRandomness();
  }

  /** Sampling must go on whatever the storage says: a write it refused is counted, and said once per run of refusals. */
  private unlessStorageFull(kind: 'checkpoint' | 'report', what: string, write: () => void): void {
    try {
      write();
      this.storageRefusing.delete(kind);
    } catch (error) {
      if (!(error instanceof MeterveilError && error.reason === 'storage-full')) throw error;
      this.counters.storageFull += 1;
      if (!this.storageRefusing.has(kind)) this.log(`${what}: ${error.message}`);
      this.storageRefusing.add(kind);
    }
  }

  /** The slot being measured (before measuring starts: the slot of the clock). */
  private currentSlot(): number {
    const { integrator } = this.measuring;
    return integrator ? integrator.slot : Math.floor(this.platform.clock.now() / (this.config.slotSeconds * 1000));
  }

  /**
   * One turn's products towards the open slot's pool, the newest key's comb table and an announced
   * key's pool (randomness.ts), then the reports that waited for randomness, if it is there now.
   */
  private workRandomness(): void {
    const slot = this.currentSlot();
    const needed: PaillierPublicKey[] = [];
    // A report that waits comes first, under its own key even if no later slot uses that key.
    for (const key of [...this.awaitingRandomness.map((c) => this.keys.keyFor(c.slot)), this.keys.keyFor(slot)])
      if (!needed.includes(key)) needed.push(key);
    for (const k of this.keys.upcoming(slot)) if (!needed.includes(k.publicKey)) needed.push(k.publicKey);
    this.randomness.work(needed);
    while (this.awaitingRandomness.length > 0) {
      const closed = this.awaitingRandomness[0];
      const publicKey = this.keys.keyFor(closed.slot);
      const randomness = this.randomness.take(publicKey);
      if (randomness === undefined) return;
      this.awaitingRandomness.shift();
      this.unlessStorageFull('report', `report for slot ${closed.slot} not recorded`, () => this.seal(closed, publicKey, randomness));
    }
  }

  // --- reporting ---

  private closeSlots(closed: SlotReadings[]): void {
    for (const slot of closed) this.unlessStorageFull('report', `report for slot ${slot.slot} not recorded`, () => this.report(slot));
  }

  private report(closed: SlotReadings): void {
    if (!this.measuring.isToReport(closed, this.outbox)) return;
    const publicKey = this.keys.keyFor(closed.slot);
    const randomness = this.awaitingRandomness.length === 0 ? this.randomness.take(publicKey) : undefined;
    if (randomness === undefined) {
      this.counters.poolDry += 1;
      this.awaitingRandomness.push(closed);
      this.log(
        `randomness pool empty at slot ${closed.slot} (${this.counters.poolDry} times): the report waits for randomness computed in steps; raise poolCapacity or stepProducts`,
      );
      return;
    }
    this.seal(closed, publicKey, randomness);
  }

  private seal(closed: SlotReadings, publicKey: PaillierPublicKey, randomness: bigint): void {
    const { config, packing, custodianKeys, outbox } = this;
    const context = { config, publicKey, packing, mac: this.platform.mac, custodianKeys, outbox };
    if (this.platform.macStream) {
      this.sealing.push(new SealJob(context, closed, randomness, this.platform.macStream));
      this.counters.reportsCreated += 1;
      return;
    }
    const entry = sealSlotReport(context, closed, randomness);
    this.counters.reportsCreated += 1;
    this.delivery.stored(entry, closed.slot);
  }

  /** One part of the oldest report being sealed; once stored, it is published as a report sealed at once is. */
  private stepSealing(): void {
    const job = this.sealing[0];
    this.unlessStorageFull('report', `report for slot ${job.slot} not recorded`, () => job.step());
    if (!job.done) return;
    this.sealing.shift();
    this.delivery.stored(job.entry, job.slot);
  }

  // --- connection: delivery.ts; here the status and the key announcements ---

  /** The health status, retained, now and every statusSeconds while connected (a reconnect restarts the period). */
  private publishStatus(): void {
    this.platform.clock.clearTimer(this.statusTimer);
    this.statusTimer = undefined;
    if (!this.running || !this.delivery.isConnected()) return;
    const now = this.platform.clock.now();
    const status = meterStatusOf(this.config.meterId, this.stats(), now, this.startedMs, this.platform.freeMemoryBytes?.());
    this.platform.mqtt.publish(meterStatusTopic(this.config.meterId), encodeMeterStatus(status, this.statusKey, this.platform.mac), true);
    this.statusTimer = this.platform.clock.setTimer(() => this.publishStatus(), this.config.statusSeconds * 1000);
  }

  /** A key announcement: adopted only when valid; otherwise counted, logged, and nothing changes. */
  private onAnnouncement(payload: Uint8Array): void {
    const slot = this.currentSlot();
    try {
      const outcome = this.keys.offer(payload, slot);
      if (outcome.kind === 'known') {
        this.counters.announcementsRepeated += 1;
        return;
      }
      this.counters.announcementsAccepted += 1;
      this.log(
        `key ${outcome.key.publicKey.keyId} announced: reports from slot ${outcome.key.effectiveSlot} on are encrypted under it (open slot ${slot})`,
      );
    } catch (error) {
      const reason = error instanceof MeterveilError ? error.reason : 'malformed-announcement';
      this.announcementsRefused[reason] = (this.announcementsRefused[reason] ?? 0) + 1;
      this.log(`key announcement refused (${reason}): ${(error as Error).message}`);
    }
  }
}
