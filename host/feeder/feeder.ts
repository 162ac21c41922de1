/**
 * A simulated feeder meter: the utility's own meter on a group's supply line. At the end of each
 * slot (plus a short settling delay) it publishes the energy that flowed through the feeder, as
 * given by its measurement source. Its reading is not private: it is one line, not a household.
 */
import type { MqttClient } from 'mqtt';
import { encodeFeederReading } from '../protocol/feeder.ts';
import { slotAt, slotEndMs } from '../protocol/slots.ts';
import { feederTopic } from '../protocol/topics.ts';

/** The feeder's measurement of a slot, or undefined if it has none (the slot is then skipped). */
export type FeederMeasurement = (slot: number) => bigint | undefined;

export interface FeederOptions {
  feederId: string;
  slotSeconds: number;
  measure: FeederMeasurement;
  client: MqttClient;
  /** Milliseconds after a slot's end before the reading is taken. */
  settleMs?: number;
  now?: () => number;
  /** The first slot to publish (default: the slot in progress at construction). */
  firstSlot?: number;
}

export class Feeder {
  /** Readings published since start. */
  published = 0;
  private timer: NodeJS.Timeout | undefined;
  private nextSlot: number;

  get feederId(): string {
    return this.o.feederId;
  }

  constructor(private readonly o: FeederOptions) {
    this.nextSlot = o.firstSlot ?? slotAt((o.now ?? Date.now)(), o.slotSeconds);
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Publishes one slot's reading now (QoS 1). */
  publishSlot(slot: number): void {
    const total = this.o.measure(slot);
    if (total === undefined) return;
    this.o.client.publish(feederTopic(this.o.feederId), Buffer.from(encodeFeederReading({ feederId: this.o.feederId, slot, total })), {
      qos: 1,
    });
    this.published++;
  }

  private schedule(): void {
    const now = (this.o.now ?? Date.now)();
    const due = slotEndMs(this.nextSlot, this.o.slotSeconds) + (this.o.settleMs ?? 500);
    this.timer = setTimeout(
      () => {
        this.publishSlot(this.nextSlot);
        this.nextSlot++;
        this.schedule();
      },
      Math.max(0, due - now),
    );
  }
}
