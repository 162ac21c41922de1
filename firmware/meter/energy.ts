/**
 * Integration of sampled power into energy per wall-clock-aligned sub-slot.
 *
 * Unit: one reading is an integer number of milliwatt-hours (mWh) consumed in one sub-slot.
 * Power samples are integer milliwatts; each sample's power is taken to have held since the
 * previous sample (the interval is split where it crosses a sub-slot boundary). Energy below
 * one mWh is carried into the next sub-slot, so the readings of consecutive sub-slots sum to the
 * integrated energy within one mWh however long the meter runs.
 */
import { fail } from '../errors.ts';

export const MILLIWATT_MS_PER_MWH = 3_600_000;

export interface SlotReadings {
  /** Slot index: the slot starts at slot * slotMs after the Unix epoch. */
  slot: number;
  /** One reading per sub-slot, in mWh. Sub-slots before the meter started read 0. */
  readings: number[];
  /** The slot the meter first began measuring in, after its start: the readings miss the time before. */
  startedMidSlot?: true;
}

export interface IntegratorState {
  lastSampleMs: number;
  subSlot: number;
  accumulated: number;
  carry: number;
  readings: number[];
  /** The slot measurement first began in, when it began after that slot's start (see SlotReadings.startedMidSlot). */
  midSlotStart?: number;
}

/** The largest reading a sub-slot can produce: full power for the whole sub-slot, plus the carry. */
export function maxReadingMwh(maxPowerWatts: number, subSlotMs: number): number {
  return Math.floor((maxPowerWatts * 1000 * subSlotMs) / MILLIWATT_MS_PER_MWH) + 1;
}

export class EnergyIntegrator {
  private state: IntegratorState;

  constructor(
    private readonly subSlotMs: number,
    private readonly readingsPerSlot: number,
    startMs: number,
    restored?: IntegratorState,
  ) {
    if (!Number.isInteger(subSlotMs) || subSlotMs <= 0) fail('bad-integrator', 'sub-slot length must be a positive integer');
    this.state = restored ? { ...restored, readings: [...restored.readings] } : this.freshState(startMs);
    const slotMs = subSlotMs * readingsPerSlot;
    if (!restored && startMs % slotMs !== 0) this.state.midSlotStart = Math.floor(startMs / slotMs);
  }

  private freshState(startMs: number): IntegratorState {
    const subSlot = Math.floor(startMs / this.subSlotMs);
    // Sub-slots of this slot that passed before the start were not measured: they read 0.
    const readings = new Array<number>(subSlot % this.readingsPerSlot).fill(0);
    return { lastSampleMs: startMs, subSlot, accumulated: 0, carry: 0, readings };
  }

  get slot(): number {
    return Math.floor(this.state.subSlot / this.readingsPerSlot);
  }

  get lastSampleMs(): number {
    return this.state.lastSampleMs;
  }

  snapshot(): IntegratorState {
    return { ...this.state, readings: [...this.state.readings] };
  }

  /**
   * Adds the energy of the interval since the previous sample at `powerMilliwatts`
   * (undefined: the interval was not measured and adds nothing). Returns the slots it closed.
   */
  sample(nowMs: number, powerMilliwatts: number | undefined): SlotReadings[] {
    const closed: SlotReadings[] = [];
    const s = this.state;
    if (nowMs < s.lastSampleMs) fail('clock-went-back', 'sample time is before the previous sample');
    const power = powerMilliwatts ?? 0;
    for (;;) {
      const boundary = (s.subSlot + 1) * this.subSlotMs;
      if (boundary > nowMs) break;
      s.accumulated += power * (boundary - s.lastSampleMs);
      s.lastSampleMs = boundary;
      const done = this.closeSubSlot();
      if (done) closed.push(done);
    }
    s.accumulated += power * (nowMs - s.lastSampleMs);
    s.lastSampleMs = nowMs;
    return closed;
  }

  /**
   * Ends measurement up to `nowMs` without energy for the gap (after a long outage): closes the
   * slot in progress and every later one before `nowMs` only if it holds readings, then starts over.
   */
  restartAt(nowMs: number): SlotReadings[] {
    const closed: SlotReadings[] = [];
    const s = this.state;
    const currentSlot = this.slot;
    if (Math.floor(nowMs / (this.subSlotMs * this.readingsPerSlot)) === currentSlot) {
      return this.sample(nowMs, undefined);
    }
    while (Math.floor(s.subSlot / this.readingsPerSlot) === currentSlot) {
      s.lastSampleMs = (s.subSlot + 1) * this.subSlotMs;
      const done = this.closeSubSlot();
      if (done) closed.push(done);
    }
    const carry = s.carry;
    this.state = this.freshState(nowMs);
    this.state.carry = carry;
    return closed;
  }

  private closeSubSlot(): SlotReadings | undefined {
    const s = this.state;
    const total = s.carry + s.accumulated;
    const reading = Math.floor(total / MILLIWATT_MS_PER_MWH);
    s.carry = total - reading * MILLIWATT_MS_PER_MWH;
    s.accumulated = 0;
    s.readings.push(reading);
    const slot = Math.floor(s.subSlot / this.readingsPerSlot);
    s.subSlot += 1;
    if (s.readings.length < this.readingsPerSlot) return undefined;
    const readings = s.readings;
    s.readings = [];
    if (s.midSlotStart !== slot) return { slot, readings };
    s.midSlotStart = undefined;
    return { slot, readings, startedMidSlot: true };
  }
}
