/**
 * The metering loop of a masked meter, for boards without BigInt (Espruino): the Paillier meter's
 * loop (firmware/meter/meter.ts) with the mask in place of encryption and nothing else on the
 * board but the platform port. It samples power every sampleMs into wall-clock sub-slots (energy.ts,
 * checkpointed), and at each slot's end packs the readings without BigInt (layout.ts), adds the
 * mask of (key id, slot), writes the slot to the mask ledger (ledger.ts) before the report exists,
 * stores the authenticated report in the outbox and publishes it. Every group's acknowledgement
 * removes it; resends, reconnections with backoff and replays after a reboot are the outbox's.
 * Written for Espruino's ES5 as well as for XS: no Map, Set, BigInt or `**`, keyed records are
 * plain objects. No reading leaves this module except masked, and none is logged.
 */
import { MeterveilError, type Reason } from '../errors.ts';
import type { PackingConfig } from '../config/packing.ts';
import { readAck } from '../meter/ack.ts';
import { backoffDelayMs } from '../meter/backoff.ts';
import { saveCheckpoint } from '../meter/checkpoint.ts';
import type { EnergyIntegrator, SlotReadings } from '../meter/energy.ts';
import { Outbox, type OutboxEntry } from '../meter/outbox.ts';
import { resumeIntegrator, sampleMilliwatts } from '../meter/sampling.ts';
import type { Clock, Mac, MqttPort, PowerSensor, SensorStats, Storage, TimerHandle } from '../platform/port.ts';
import { deriveAckKey, deriveCustodianKey } from '../protocol/meter-keys.ts';
import { AckStatus, ackTopic, encodeReport, reportTopic } from '../protocol/report.ts';
import { maskedLayoutFor, packReadings, type MaskedLayout } from './layout.ts';
import { MaskLedger } from './ledger.ts';
import { deriveMaskKey } from './mask.ts';
import { maskPacked } from './seal.ts';

/** 2024-01-01T00:00:00Z: before this the clock has not been set, and slots would be nonsense. */
const EARLIEST_PLAUSIBLE_MS = 1704067200000;

export interface MaskedMeterConfig {
  meterId: string;
  groups: string[];
  /** The deployment's mask key id (config scheme.keyId): masks and reports are under it. */
  keyId: string;
  macKey: Uint8Array;
  deviceKey: Uint8Array;
  /** 0: the provider holds the mask key; n: verifiable, the mask is the sum of the n custodians' masks and each report carries n authenticators. */
  custodians: number;
  slotSeconds: number;
  sampleMs: number;
  packing: PackingConfig;
  ackTimeoutSeconds: number;
  checkpointSeconds: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  outboxCapacity: number;
}

export interface MaskedPlatform {
  readonly clock: Clock;
  readonly sensor: PowerSensor;
  readonly storage: Storage;
  readonly mac: Mac;
  readonly mqtt: MqttPort;
  /** A byte for the reconnection jitter (no key material: Espruino's generator is not a cryptographic one). */
  jitterByte(): number;
  log(line: string): void;
}

export interface MaskedMeterStats {
  samples: number;
  sensorMisses: number;
  clampedSamples: number;
  reportsCreated: number;
  slotsAlreadyReported: number;
  slotsStartedMidSlot: number;
  /** Slots whose mask the ledger refused (`mask-already-used`): not sent, rather than a second value under one mask. */
  masksRefused: number;
  storageFull: number;
  publishes: number;
  reportsAcknowledged: number;
  acksRefused: number;
  acksRejected: Partial<Record<Reason, number>>;
  connects: number;
  disconnects: number;
  connected: boolean;
  outboxSize: number;
  outboxDropped: number;
  /** The bus counters of a sensor that keeps them (the PZEM-004T). */
  sensor?: SensorStats;
}

/** A held report's name in the meter's bookkeeping objects. */
const nameOf = (entry: OutboxEntry) => `${entry.slot}/${entry.seq}`;

export class MaskedMeter {
  private readonly layout: MaskedLayout;
  private readonly outbox: Outbox;
  private readonly ledger: MaskLedger;
  private readonly maskKeys: Uint8Array[] = [];
  private readonly custodianKeys: Uint8Array[] = [];
  /** By group id: the key its aggregator acknowledges with. */
  private readonly ackKeys: Record<string, Uint8Array> = {};
  /** By held report: the groups that acknowledged it, and when it was last sent. */
  private ackedBy: Record<string, string[]> = {};
  private sentAt: Record<string, number> = {};
  private integrator: EnergyIntegrator | undefined;
  private sampleTimer: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private reconnectAttempt = 0;
  private running = false;
  private connected = false;
  private readonly counters = {
    samples: 0,
    sensorMisses: 0,
    clampedSamples: 0,
    reportsCreated: 0,
    slotsAlreadyReported: 0,
    slotsStartedMidSlot: 0,
    masksRefused: 0,
    storageFull: 0,
    publishes: 0,
    reportsAcknowledged: 0,
    acksRefused: 0,
    connects: 0,
    disconnects: 0,
  };
  private readonly acksRejected: Partial<Record<Reason, number>> = {};

  constructor(
    private readonly platform: MaskedPlatform,
    private readonly config: MaskedMeterConfig,
  ) {
    const { mac } = platform;
    this.layout = maskedLayoutFor(config.slotSeconds, config.packing);
    this.outbox = new Outbox(platform.storage, config.outboxCapacity);
    this.ledger = new MaskLedger(platform.storage);
    // The provider's key (holder 0), or custodian i's (holder i): the meter's mask is their sum.
    if (config.custodians === 0) this.maskKeys.push(deriveMaskKey(config.deviceKey, config.keyId, 0, mac));
    for (let index = 1; index <= config.custodians; index++) {
      this.maskKeys.push(deriveMaskKey(config.deviceKey, config.keyId, index, mac));
      this.custodianKeys.push(deriveCustodianKey(config.deviceKey, index, mac));
    }
    for (let i = 0; i < config.groups.length; i++) this.ackKeys[config.groups[i]] = deriveAckKey(config.deviceKey, config.groups[i], mac);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { config, layout } = this;
    this.log(
      `started: masked, slot ${config.slotSeconds} s, sample ${config.sampleMs} ms, ${layout.readings} reading(s) of ${layout.slotBits} bits, groups ${config.groups.join(',')}, outbox ${this.outbox.size} held`,
    );
    this.connect();
    this.beginMeasuring();
  }

  /** Stops timers and the MQTT session; outbox, ledger and checkpoint stay in storage. */
  stop(): void {
    this.running = false;
    this.platform.clock.clearTimer(this.sampleTimer);
    this.platform.clock.clearTimer(this.reconnectTimer);
    this.sampleTimer = undefined;
    this.reconnectTimer = undefined;
    this.platform.mqtt.disconnect();
    this.connected = false;
  }

  stats(): MaskedMeterStats {
    const acksRejected: Partial<Record<Reason, number>> = {};
    for (const reason in this.acksRejected) acksRejected[reason as Reason] = this.acksRejected[reason as Reason];
    const c = this.counters;
    const sensor = this.platform.sensor.stats ? this.platform.sensor.stats() : undefined;
    return {
      samples: c.samples,
      sensorMisses: c.sensorMisses,
      clampedSamples: c.clampedSamples,
      reportsCreated: c.reportsCreated,
      slotsAlreadyReported: c.slotsAlreadyReported,
      slotsStartedMidSlot: c.slotsStartedMidSlot,
      masksRefused: c.masksRefused,
      storageFull: c.storageFull,
      publishes: c.publishes,
      reportsAcknowledged: c.reportsAcknowledged,
      acksRefused: c.acksRefused,
      acksRejected,
      connects: c.connects,
      disconnects: c.disconnects,
      connected: this.connected,
      outboxSize: this.outbox.size,
      outboxDropped: this.outbox.dropped,
      ...(sensor ? { sensor } : {}),
    };
  }

  private log(line: string): void {
    this.platform.log(`meter ${this.config.meterId}: ${line}`);
  }

  // --- measuring ---

  private beginMeasuring(): void {
    const now = this.platform.clock.now();
    if (now < EARLIEST_PLAUSIBLE_MS) {
      this.log('clock not set yet; waiting before measuring');
      this.sampleTimer = this.platform.clock.setTimer(() => this.beginMeasuring(), 1000);
      return;
    }
    const { config } = this;
    const subSlotMs = (config.slotSeconds * 1000) / config.packing.readings;
    const bridgeableGapMs = config.checkpointSeconds * 1000 + 2 * config.sampleMs;
    const resumed = resumeIntegrator(this.platform.storage, subSlotMs, config.packing.readings, now, bridgeableGapMs);
    this.integrator = resumed.integrator;
    if (resumed.gapSeconds !== undefined) this.log(`resumed after ${resumed.gapSeconds} s without measurement`);
    this.closeSlots(resumed.closed);
    this.scheduleSample();
  }

  private scheduleSample(): void {
    if (!this.running) return;
    const { sampleMs } = this.config;
    // Aligned to the wall clock, so samples fall on sub-slot boundaries even after a late timer.
    const delay = sampleMs - (this.platform.clock.now() % sampleMs);
    this.sampleTimer = this.platform.clock.setTimer(() => this.onSample(), delay);
  }

  private onSample(): void {
    const integrator = this.integrator;
    if (!this.running || !integrator) return;
    const now = this.platform.clock.now();
    this.counters.samples += 1;
    const sample = sampleMilliwatts(this.platform.sensor, this.config.packing.maxPowerWatts * 1000);
    if (!sample) this.counters.sensorMisses += 1;
    else if (sample.clamped) this.counters.clampedSamples += 1;
    const closed = integrator.sample(now, sample ? sample.milliwatts : undefined);
    this.closeSlots(closed);
    const everyMs = this.config.checkpointSeconds * 1000;
    if (closed.length > 0 || (everyMs > 0 && now % everyMs === 0))
      this.unlessStorageFull('checkpoint not saved', () => saveCheckpoint(this.platform.storage, integrator.snapshot()));
    this.resendOverdue(now);
    this.scheduleSample();
  }

  /** Sampling goes on whatever the storage says: a write it refused is counted and logged. */
  private unlessStorageFull(what: string, write: () => void): void {
    try {
      write();
    } catch (error) {
      if (!(error instanceof MeterveilError && error.reason === 'storage-full')) throw error;
      this.counters.storageFull += 1;
      this.log(`${what}: ${error.message}`);
    }
  }

  // --- reporting ---

  private closeSlots(closed: SlotReadings[]): void {
    for (let i = 0; i < closed.length; i++) {
      const slot = closed[i];
      this.unlessStorageFull(`report for slot ${slot.slot} not recorded`, () => this.report(slot));
    }
  }

  private report(closed: SlotReadings): void {
    if (closed.startedMidSlot) {
      this.counters.slotsStartedMidSlot += 1;
      return;
    }
    if (this.outbox.hasReported(closed.slot)) {
      this.counters.slotsAlreadyReported += 1;
      return;
    }
    const { config, layout, platform } = this;
    const ciphertext = maskPacked(packReadings(closed.readings, layout), layout, this.maskKeys, config.keyId, closed.slot, platform.mac);
    try {
      // Durable before any report holds it: after a reboot this slot cannot go out with another value.
      this.ledger.claim(config.keyId, closed.slot, ciphertext);
    } catch (error) {
      if (!(error instanceof MeterveilError && error.reason === 'mask-already-used')) throw error;
      this.counters.masksRefused += 1;
      this.log(`slot ${closed.slot} not reported: ${error.message}`);
      return;
    }
    const entry = this.outbox.push(closed.slot, (seq, dropped) =>
      encodeReport(
        { keyId: config.keyId, meterId: config.meterId, slot: closed.slot, seq, dropped, packed: layout.readings, ciphertext },
        config.macKey,
        platform.mac,
        this.custodianKeys,
      ),
    );
    this.counters.reportsCreated += 1;
    this.forgetEvicted();
    if (entry) this.publish(entry);
    else this.log(`report for slot ${closed.slot} dropped: the storage has no room for it (${this.outbox.dropped} dropped in all)`);
  }

  /** Bookkeeping only for the reports the outbox still holds. */
  private forgetEvicted(): void {
    const ackedBy: Record<string, string[]> = {};
    const sentAt: Record<string, number> = {};
    const held = this.outbox.entries();
    for (let i = 0; i < held.length; i++) {
      const name = nameOf(held[i]);
      if (this.ackedBy[name]) ackedBy[name] = this.ackedBy[name];
      if (this.sentAt[name] !== undefined) sentAt[name] = this.sentAt[name];
    }
    this.ackedBy = ackedBy;
    this.sentAt = sentAt;
  }

  /** The same bytes to each group that has not acknowledged the report yet, on that group's topic. */
  private publish(entry: OutboxEntry): void {
    if (!this.connected) return;
    const message = this.outbox.message(entry);
    if (!message) return;
    const name = nameOf(entry);
    const acked = this.ackedBy[name] || [];
    const { groups, meterId } = this.config;
    let sent = false;
    for (let i = 0; i < groups.length; i++) {
      if (acked.indexOf(groups[i]) >= 0 || !this.platform.mqtt.publish(reportTopic(groups[i], meterId), message)) continue;
      this.counters.publishes += 1;
      sent = true;
    }
    if (sent) this.sentAt[name] = this.platform.clock.now();
  }

  private resendOverdue(now: number): void {
    if (!this.connected) return;
    const timeoutMs = this.config.ackTimeoutSeconds * 1000;
    const held = this.outbox.entries().slice();
    for (let i = 0; i < held.length; i++) {
      const sent = this.sentAt[nameOf(held[i])];
      if (sent === undefined || now - sent >= timeoutMs) this.publish(held[i]);
    }
  }

  // --- connection and acknowledgements ---

  private connect(): void {
    if (!this.running) return;
    this.platform.mqtt.connect({
      onConnect: () => this.onConnect(),
      onDisconnect: () => this.onDisconnect(),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    });
  }

  private onConnect(): void {
    if (!this.running) return;
    this.connected = true;
    this.reconnectAttempt = 0;
    this.counters.connects += 1;
    this.platform.mqtt.subscribe(ackTopic(this.config.meterId));
    // Replay in order: whatever was not acknowledged before the drop or reboot.
    const held = this.outbox.entries().slice();
    for (let i = 0; i < held.length; i++) this.publish(held[i]);
  }

  private onDisconnect(): void {
    if (this.connected) this.counters.disconnects += 1;
    this.connected = false;
    if (!this.running) return;
    this.platform.clock.clearTimer(this.reconnectTimer);
    const { reconnectMinMs, reconnectMaxMs } = this.config;
    const delay = backoffDelayMs(this.reconnectAttempt++, reconnectMinMs, reconnectMaxMs, this.platform.jitterByte());
    this.reconnectTimer = this.platform.clock.setTimer(() => this.connect(), delay);
  }

  private reject(reason: Reason): void {
    this.acksRejected[reason] = (this.acksRejected[reason] || 0) + 1;
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    const { config } = this;
    const ackKeys = this.ackKeys;
    const ackKeyOf = (groupId: string) => (Object.prototype.hasOwnProperty.call(ackKeys, groupId) ? ackKeys[groupId] : undefined);
    const read = readAck(topic, payload, config.meterId, ackKeyOf, this.platform.mac, this.outbox);
    if ('refused' in read) return this.reject(read.refused);
    const { ack, entry } = read;
    if (ack.status === AckStatus.refused) {
      // Sending it again would be refused again: count it, say so, and let it go for that group.
      this.counters.acksRefused += 1;
      this.log(`group ${ack.groupId} refused the report for slot ${ack.slot} (seq ${ack.seq})`);
    }
    const name = nameOf(entry);
    const groups = this.ackedBy[name] || [];
    if (groups.indexOf(ack.groupId) < 0) groups.push(ack.groupId);
    this.ackedBy[name] = groups;
    for (let i = 0; i < config.groups.length; i++) if (groups.indexOf(config.groups[i]) < 0) return;
    this.outbox.remove(entry);
    delete this.ackedBy[name];
    delete this.sentAt[name];
    this.counters.reportsAcknowledged += 1;
  }
}
