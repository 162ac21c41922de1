/**
 * The metering loop of a masked meter, for boards without BigInt (Espruino): the Paillier meter's
 * loop (firmware/meter/meter.ts) with the mask in place of encryption and nothing else on the
 * board but the platform port. It samples power every sampleMs into wall-clock sub-slots (energy.ts,
 * checkpointed), and at each slot's end packs the readings without BigInt (layout.ts), adds the
 * mask of (key id, slot), writes the slot to the mask ledger (ledger.ts) before the report exists,
 * stores the authenticated report in the outbox and publishes it. Every group's acknowledgement
 * removes it; resends, reconnections with backoff and replays after a reboot are delivery.ts's,
 * shared with the Paillier meter.
 * Written for Espruino's ES5 as well as for XS: no Map, Set, BigInt or `**`, keyed records are
 * plain objects. No reading leaves this module except masked, and none is logged.
 */
import { MeterveilError, type Reason } from '../errors.ts';
import type { PackingConfig } from '../config/packing.ts';
import { Delivery } from '../meter/delivery.ts';
import type { SlotReadings } from '../meter/energy.ts';
import { Measuring } from '../meter/measuring.ts';
import { Outbox } from '../meter/outbox.ts';
import type { Clock, Mac, MqttPort, PowerSensor, SensorStats, Storage } from '../platform/port.ts';
import { deriveCustodianKey } from '../protocol/meter-keys.ts';
import { encodeReport } from '../protocol/report.ts';
import { maskedLayoutFor, packReadings, type MaskedLayout } from './layout.ts';
import { MaskLedger } from './ledger.ts';
import { deriveMaskKey } from './mask.ts';
import { maskPacked } from './seal.ts';

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

export class MaskedMeter {
  private readonly measuring: Measuring;
  private readonly delivery: Delivery;
  private running = false;
  private readonly layout: MaskedLayout;
  private readonly outbox: Outbox;
  private readonly ledger: MaskLedger;
  private readonly maskKeys: Uint8Array[] = [];
  private readonly custodianKeys: Uint8Array[] = [];
  private readonly counters = {
    reportsCreated: 0,
    masksRefused: 0,
    storageFull: 0,
  };

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
    const hooks = {
      clock: platform.clock,
      mac,
      mqtt: platform.mqtt,
      jitterByte: () => platform.jitterByte(),
      log: (line: string) => this.log(line),
    };
    this.delivery = new Delivery(hooks, config, this.outbox);
    this.measuring = new Measuring(
      {
        clock: platform.clock,
        sensor: platform.sensor,
        storage: platform.storage,
        log: hooks.log,
        closeSlots: (closed) => this.closeSlots(closed),
        checkpoint: () => this.unlessStorageFull('checkpoint not saved', () => this.measuring.saveCheckpoint()),
        sampled: (now) => this.delivery.resendOverdue(now),
      },
      config,
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const { config, layout } = this;
    this.log(
      `started: masked, slot ${config.slotSeconds} s, sample ${config.sampleMs} ms, ${layout.readings} reading(s) of ${layout.slotBits} bits, groups ${config.groups.join(',')}, outbox ${this.outbox.size} held`,
    );
    this.delivery.start();
    this.measuring.start();
  }

  /** Stops timers and the MQTT session; outbox, ledger and checkpoint stay in storage. */
  stop(): void {
    this.running = false;
    this.measuring.stop();
    this.delivery.stop();
  }

  stats(): MaskedMeterStats {
    const acksRejected: Partial<Record<Reason, number>> = {};
    const rejected = this.delivery.acksRejected;
    for (const reason in rejected) acksRejected[reason as Reason] = rejected[reason as Reason];
    const c = this.counters;
    const d = this.delivery.counters;
    const m = this.measuring.counters;
    const sensor = this.platform.sensor.stats ? this.platform.sensor.stats() : undefined;
    return {
      samples: m.samples,
      sensorMisses: m.sensorMisses,
      clampedSamples: m.clampedSamples,
      reportsCreated: c.reportsCreated,
      slotsAlreadyReported: m.slotsAlreadyReported,
      slotsStartedMidSlot: m.slotsStartedMidSlot,
      masksRefused: c.masksRefused,
      storageFull: c.storageFull,
      publishes: d.publishes,
      reportsAcknowledged: d.reportsAcknowledged,
      acksRefused: d.acksRefused,
      acksRejected,
      connects: d.connects,
      disconnects: d.disconnects,
      connected: this.delivery.isConnected(),
      outboxSize: this.outbox.size,
      outboxDropped: this.outbox.dropped,
      ...(sensor ? { sensor } : {}),
    };
  }

  private log(line: string): void {
    this.platform.log(`meter ${this.config.meterId}: ${line}`);
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
    if (!this.measuring.isToReport(closed, this.outbox)) return;
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
    this.delivery.stored(entry, closed.slot);
  }
}
