/**
 * The measuring half of a meter's loop (the Paillier meter, meter.ts, and the masked one,
 * firmware/masked/meter.ts): it waits for a set clock, resumes the integrator from the checkpoint
 * (sampling.ts), and samples the sensor every sampleMs on the wall clock's grid, so that samples
 * fall on sub-slot boundaries. What a loop does with the slots that close, how it saves the
 * checkpoint and what else a turn does come in as hooks. Written for Espruino's ES5 as well as for
 * XS: no Map, Set, BigInt or `**`.
 */
import type { PackingConfig } from '../config/packing.ts';
import type { Clock, PowerSensor, Storage, TimerHandle } from '../platform/port.ts';
import { saveCheckpoint } from './checkpoint.ts';
import type { EnergyIntegrator, SlotReadings } from './energy.ts';
import type { Outbox } from './outbox.ts';
import { resumeIntegrator, sampleMilliwatts } from './sampling.ts';

/** 2024-01-01T00:00:00Z: before this the clock has not been set (no SNTP yet), and slots would be nonsense. */
const EARLIEST_PLAUSIBLE_MS = 1704067200000;

export interface MeasuringConfig {
  slotSeconds: number;
  sampleMs: number;
  checkpointSeconds: number;
  packing: Pick<PackingConfig, 'readings' | 'maxPowerWatts'>;
}

export interface MeasuringHooks {
  readonly clock: Clock;
  readonly sensor: PowerSensor;
  readonly storage: Storage;
  log(line: string): void;
  /** Slots that closed, oldest first: at a resume after a gap too long to bridge, or at a sample. */
  closeSlots(closed: SlotReadings[]): void;
  /** After a slot closed and every checkpointSeconds: the loop saves it (saveCheckpoint below), minding a full storage. */
  checkpoint(): void;
  /** The rest of a sample's turn, after its slots closed and the checkpoint. */
  sampled(now: number, closedSlots: number): void;
}

export interface MeasuringCounters {
  samples: number;
  /** Samples the sensor could not give; their interval adds no energy. */
  sensorMisses: number;
  /** Samples outside [0, maxPowerWatts], clamped to the range so packing can never overflow. */
  clampedSamples: number;
  /** Slots not reported because a report for them already exists (e.g. a reboot just after a close). */
  slotsAlreadyReported: number;
  /** The slot a meter with nothing to resume began measuring in (first boot): the energy before the start is missing from it. */
  slotsStartedMidSlot: number;
}

export class Measuring {
  /** Undefined until the clock is set. */
  integrator: EnergyIntegrator | undefined;
  readonly counters: MeasuringCounters = {
    samples: 0,
    sensorMisses: 0,
    clampedSamples: 0,
    slotsAlreadyReported: 0,
    slotsStartedMidSlot: 0,
  };
  private sampleTimer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly hooks: MeasuringHooks,
    private readonly config: MeasuringConfig,
  ) {}

  start(): void {
    this.running = true;
    this.begin();
  }

  stop(): void {
    this.running = false;
    this.hooks.clock.clearTimer(this.sampleTimer);
    this.sampleTimer = undefined;
  }

  /** Whether a closed slot is to be reported: neither one measured only in part since a first start nor one reported already; each counted. */
  isToReport(closed: SlotReadings, outbox: Outbox): boolean {
    if (closed.startedMidSlot) {
      this.counters.slotsStartedMidSlot += 1;
      return false;
    }
    if (outbox.hasReported(closed.slot)) {
      this.counters.slotsAlreadyReported += 1;
      return false;
    }
    return true;
  }

  /** Throws 'storage-full' when the storage has no room for it. */
  saveCheckpoint(): void {
    if (this.integrator) saveCheckpoint(this.hooks.storage, this.integrator.snapshot());
  }

  private begin(): void {
    const { hooks, config } = this;
    const now = hooks.clock.now();
    if (now < EARLIEST_PLAUSIBLE_MS) {
      hooks.log('clock not set yet; waiting before measuring');
      this.sampleTimer = hooks.clock.setTimer(() => this.begin(), 1000);
      return;
    }
    const subSlotMs = (config.slotSeconds * 1000) / config.packing.readings;
    const bridgeableGapMs = config.checkpointSeconds * 1000 + 2 * config.sampleMs;
    const resumed = resumeIntegrator(hooks.storage, subSlotMs, config.packing.readings, now, bridgeableGapMs);
    this.integrator = resumed.integrator;
    if (resumed.gapSeconds !== undefined) hooks.log(`resumed after ${resumed.gapSeconds} s without measurement`);
    hooks.closeSlots(resumed.closed);
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    const { sampleMs } = this.config;
    // Aligned to the wall clock, so samples fall on sub-slot boundaries even after a late timer.
    const delay = sampleMs - (this.hooks.clock.now() % sampleMs);
    this.sampleTimer = this.hooks.clock.setTimer(() => this.onSample(), delay);
  }

  private onSample(): void {
    const { hooks, counters, integrator } = this;
    if (!this.running || !integrator) return;
    const now = hooks.clock.now();
    counters.samples += 1;
    const sample = sampleMilliwatts(hooks.sensor, this.config.packing.maxPowerWatts * 1000);
    if (!sample) counters.sensorMisses += 1;
    else if (sample.clamped) counters.clampedSamples += 1;
    const closed = integrator.sample(now, sample ? sample.milliwatts : undefined);
    hooks.closeSlots(closed);
    const everyMs = this.config.checkpointSeconds * 1000;
    if (closed.length > 0 || (everyMs > 0 && now % everyMs === 0)) hooks.checkpoint();
    hooks.sampled(now, closed.length);
    this.schedule();
  }
}
