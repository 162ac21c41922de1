/**
 * How a meter's loop (the Paillier meter, meter.ts, and the masked one, firmware/masked/meter.ts)
 * gets its held reports to the aggregators: the MQTT session, reconnected after a backoff; each
 * report published to every group that has not acknowledged it yet, sent again once overdue and
 * replayed in order at every (re)connect; and the acknowledgements (ack.ts) that remove it from the
 * outbox once every group has given one. What differs between the loops comes in as hooks: the
 * Paillier meter also subscribes to key announcements, takes them, and publishes its status once
 * connected. Written for Espruino's ES5 as well as for XS: no Map, Set or `**`, and no closure is
 * made per report or per message. What it keeps of a held report is found by the entry itself, not
 * by a name made of it: XS keeps every property name it has seen, so a name per report would grow
 * the key table for as long as the meter runs.
 */
import type { Reason } from '../errors.ts';
import type { Clock, Mac, MqttPort, TimerHandle } from '../platform/port.ts';
import { deriveAckKey } from '../protocol/meter-keys.ts';
import { AckStatus, ackTopic, reportTopic } from '../protocol/report.ts';
import { readAck } from './ack.ts';
import { backoffDelayMs } from './backoff.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';

export interface DeliveryConfig {
  meterId: string;
  groups: string[];
  deviceKey: Uint8Array;
  ackTimeoutSeconds: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export interface DeliveryHooks {
  readonly clock: Clock;
  readonly mac: Mac;
  readonly mqtt: MqttPort;
  /** A byte for the reconnection jitter. */
  jitterByte(): number;
  log(line: string): void;
  /** Subscribed at every connect after the meter's acknowledgement topic. */
  readonly topics?: string[];
  /** A message the loop takes itself (it returns true), before any is read as an acknowledgement. */
  message?(topic: string, payload: Uint8Array): boolean;
  /** At every (re)connect, after the replay. */
  connected?(): void;
}

export interface DeliveryCounters {
  publishes: number;
  reportsAcknowledged: number;
  acksRefused: number;
  connects: number;
  disconnects: number;
}

/** Of a held report: the groups that acknowledged it, and when it was last sent. */
interface Tracked {
  readonly entry: OutboxEntry;
  readonly ackedBy: string[];
  sentAt: number | undefined;
}

export class Delivery {
  /** By group id: the key its aggregator acknowledges with (no other group's aggregator holds it). */
  private readonly ackKeys: Record<string, Uint8Array> = {};
  private readonly ackKeyOf: (groupId: string) => Uint8Array | undefined;
  /** Only for reports the outbox holds, each at most once. */
  private tracked: Tracked[] = [];
  private reconnectTimer: TimerHandle | undefined;
  private reconnectAttempt = 0;
  private running = false;
  private connected = false;
  readonly counters: DeliveryCounters = { publishes: 0, reportsAcknowledged: 0, acksRefused: 0, connects: 0, disconnects: 0 };
  readonly acksRejected: Partial<Record<Reason, number>> = {};

  constructor(
    private readonly hooks: DeliveryHooks,
    private readonly config: DeliveryConfig,
    private readonly outbox: Outbox,
  ) {
    const ackKeys = this.ackKeys;
    for (let i = 0; i < config.groups.length; i++) ackKeys[config.groups[i]] = deriveAckKey(config.deviceKey, config.groups[i], hooks.mac);
    this.ackKeyOf = (groupId) => (Object.prototype.hasOwnProperty.call(ackKeys, groupId) ? ackKeys[groupId] : undefined);
  }

  isConnected(): boolean {
    return this.connected;
  }

  start(): void {
    this.running = true;
    this.connect();
  }

  /** Also when a connection attempt is still under way, so that it cannot come up afterwards. */
  stop(): void {
    this.running = false;
    this.hooks.clock.clearTimer(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.hooks.mqtt.disconnect();
    this.connected = false;
  }

  /** A report the outbox has just stored (undefined: it had no room), published at once. */
  stored(entry: OutboxEntry | undefined, slot: number): void {
    this.forgetEvicted();
    if (entry) this.publish(entry);
    else this.hooks.log(`report for slot ${slot} dropped: the storage has no room for it (${this.outbox.dropped} dropped in all)`);
  }

  resendOverdue(now: number): void {
    if (!this.connected) return;
    const timeoutMs = this.config.ackTimeoutSeconds * 1000;
    const held = this.outbox.entries().slice();
    for (let i = 0; i < held.length; i++) {
      const tracked = this.trackedOf(held[i]);
      const sent = tracked ? tracked.sentAt : undefined;
      if (sent === undefined || now - sent >= timeoutMs) this.publish(held[i]);
    }
  }

  private trackedOf(entry: OutboxEntry): Tracked | undefined {
    const tracked = this.tracked;
    for (let i = 0; i < tracked.length; i++) if (tracked[i].entry === entry) return tracked[i];
    return undefined;
  }

  private track(entry: OutboxEntry): Tracked {
    const found = this.trackedOf(entry);
    if (found) return found;
    const tracked: Tracked = { entry, ackedBy: [], sentAt: undefined };
    this.tracked.push(tracked);
    return tracked;
  }

  /** Bookkeeping only for the reports the outbox still holds (it drops the oldest when full). */
  private forgetEvicted(): void {
    const held = this.outbox.entries();
    const kept: Tracked[] = [];
    for (let i = 0; i < this.tracked.length; i++) if (held.indexOf(this.tracked[i].entry) >= 0) kept.push(this.tracked[i]);
    this.tracked = kept;
  }

  /** The same bytes to each group that has not acknowledged the report yet, on that group's topic. */
  private publish(entry: OutboxEntry): void {
    if (!this.connected) return;
    const message = this.outbox.message(entry);
    if (!message) return;
    const tracked = this.trackedOf(entry);
    const { groups, meterId } = this.config;
    let sent = false;
    for (let i = 0; i < groups.length; i++) {
      if ((tracked && tracked.ackedBy.indexOf(groups[i]) >= 0) || !this.hooks.mqtt.publish(reportTopic(groups[i], meterId), message))
        continue;
      this.counters.publishes += 1;
      sent = true;
    }
    if (sent) (tracked || this.track(entry)).sentAt = this.hooks.clock.now();
  }

  private connect(): void {
    if (!this.running) return;
    this.hooks.mqtt.connect({
      onConnect: () => this.onConnect(),
      onDisconnect: () => this.onDisconnect(),
      onMessage: (topic, payload) => this.onMessage(topic, payload),
    });
  }

  private onConnect(): void {
    if (!this.running) return;
    const { hooks } = this;
    this.connected = true;
    this.reconnectAttempt = 0;
    this.counters.connects += 1;
    hooks.mqtt.subscribe(ackTopic(this.config.meterId));
    const topics = hooks.topics || [];
    for (let i = 0; i < topics.length; i++) hooks.mqtt.subscribe(topics[i]);
    // Replay in order: whatever was not acknowledged before the drop or reboot.
    const held = this.outbox.entries().slice();
    for (let i = 0; i < held.length; i++) this.publish(held[i]);
    if (hooks.connected) hooks.connected();
  }

  private onDisconnect(): void {
    if (this.connected) this.counters.disconnects += 1;
    this.connected = false;
    if (!this.running) return;
    const { clock } = this.hooks;
    clock.clearTimer(this.reconnectTimer);
    const { reconnectMinMs, reconnectMaxMs } = this.config;
    const delay = backoffDelayMs(this.reconnectAttempt++, reconnectMinMs, reconnectMaxMs, this.hooks.jitterByte());
    this.reconnectTimer = clock.setTimer(() => this.connect(), delay);
  }

  private onMessage(topic: string, payload: Uint8Array): void {
    const { hooks, config } = this;
    if (hooks.message && hooks.message(topic, payload)) return;
    const read = readAck(topic, payload, config.meterId, this.ackKeyOf, hooks.mac, this.outbox);
    if ('refused' in read) {
      this.acksRejected[read.refused] = (this.acksRejected[read.refused] || 0) + 1;
      return;
    }
    const { ack, entry } = read;
    if (ack.status === AckStatus.refused) {
      // Sending it again would be refused again: count it, say so, and let it go for that group.
      this.counters.acksRefused += 1;
      hooks.log(`group ${ack.groupId} refused the report for slot ${ack.slot} (seq ${ack.seq})`);
    }
    const tracked = this.track(entry);
    const groups = tracked.ackedBy;
    if (groups.indexOf(ack.groupId) < 0) groups.push(ack.groupId);
    for (let i = 0; i < config.groups.length; i++) if (groups.indexOf(config.groups[i]) < 0) return;
    this.outbox.remove(entry);
    this.tracked.splice(this.tracked.indexOf(tracked), 1);
    this.counters.reportsAcknowledged += 1;
  }
}
