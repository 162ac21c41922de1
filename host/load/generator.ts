/**
 * The simulated meters of a load run. Each identity reports every slot at a moment drawn in the
 * slot's spread window after the slot's end, as meters stagger their reports; its report is
 * encrypted with one value from the one-time pool, authenticated as a meter does (host/load/
 * report.ts), published at QoS 1 and resent with the same bytes until every group of the meter has
 * acknowledged it. The first `held` identities keep their own connection for the whole run; the
 * others take turns on short-lived connections of their own (connect, subscribe to their
 * acknowledgements, publish, wait, disconnect), `rotating` at a time: every identity still logs
 * in as itself, so the broker's ACLs hold for all. The readings are the simulated households'
 * (host/feeder/households.ts, the feeders' model); they stay in this process's memory, summed per
 * group and slot for the check, and are never logged or written.
 */
import type { MqttClient } from 'mqtt';
import type { SlotPacking } from '../../firmware/paillier/packing.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { HouseholdProfile } from '../../firmware/sensors/household.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { AckStatus, ackTopic, decodeAck, peekAckGroupId, reportTopic } from '../../firmware/protocol/report.ts';
import { householdOf } from '../feeder/households.ts';
import { householdEnergyMwh } from '../feeder/physics.ts';
import { slotEndMs, slotStartMs } from '../protocol/slots.ts';
import { heldSourceAddress, meterConnection, rotatingSourceAddress } from './connections.ts';
import type { OneTimePool } from './randomness-pool.ts';
import { encryptedReport } from './report.ts';

export interface LoadIdentity {
  meterId: string;
  password: string;
  macKey: Uint8Array;
  custodianKeys: Uint8Array[];
  /** By group: the key its aggregator acknowledges with. */
  ackKeys: Map<string, Uint8Array>;
}

export interface GeneratorOptions {
  /** The broker tier: identity i connects to urls[i % urls.length]. */
  urls: string[];
  publicKey: PaillierPublicKey;
  packing: SlotPacking;
  slotSeconds: number;
  identities: LoadIdentity[];
  /** Identities that hold their own connection for the whole run. */
  held: number;
  /** Short-lived connections open at once for the other identities. */
  rotating: number;
  pool: OneTimePool;
  /** Reports of a slot go out over this many ms after its end. */
  spreadMs: number;
  resendMs: number;
}

interface Pending {
  slot: number;
  message: Uint8Array;
  waitingFor: Set<string>;
  sentAt: number;
  settle?: () => void;
}

export interface SlotSent {
  slot: number;
  /** Per group: the sum of every member's packed readings (plaintext; memory only). */
  expected: Map<string, bigint[]>;
  /** Per group: the members whose report that group acknowledged as stored (or duplicate) before the deadline. */
  stored: Map<string, Set<string>>;
  /** Per group: the members whose report that group refused (one arriving after the slot closed: slot-closed). */
  refused: Map<string, Set<string>>;
  reports: number;
  firstSentAt: number;
  lastAckAt: number;
}

class LoadMeter {
  seq = 1;
  url = '';
  client: MqttClient | undefined;
  readonly pending = new Map<number, Pending>();
  readonly household: HouseholdProfile;
  constructor(
    readonly identity: LoadIdentity,
    readonly groups: string[],
  ) {
    this.household = new HouseholdProfile(householdOf(identity.meterId));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LoadGenerator {
  private readonly meters: LoadMeter[];
  private readonly held: LoadMeter[];
  private readonly rotating: LoadMeter[];
  private turn = 0;
  private resendTimer: NodeJS.Timeout | undefined;
  readonly slots: SlotSent[] = [];
  published = 0;
  resent = 0;
  acks = 0;
  duplicateAcks = 0;
  badAcks = 0;
  /** Most connections open at once. */
  peakConnections = 0;
  private open = 0;

  constructor(private readonly o: GeneratorOptions) {
    this.meters = o.identities.map((id, i) => {
      const m = new LoadMeter(id, [...id.ackKeys.keys()]);
      m.url = o.urls[i % o.urls.length];
      return m;
    });
    this.held = this.meters.slice(0, o.held);
    this.rotating = this.meters.slice(o.held);
  }

  /** Opens the held connections, `batch` handshakes at a time. */
  async connect(batch = 200, onProgress?: (open: number) => void): Promise<void> {
    for (let i = 0; i < this.held.length; i += batch) {
      await Promise.all(this.held.slice(i, i + batch).map((m, j) => this.open1(m, heldSourceAddress(i + j))));
      onProgress?.(Math.min(i + batch, this.held.length));
    }
    this.resendTimer = setInterval(() => this.resendHeld(), Math.max(250, this.o.resendMs / 4));
  }

  private async open1(m: LoadMeter, localAddress: string): Promise<MqttClient> {
    const client = meterConnection(m.url, m.identity, localAddress);
    m.client = client;
    client.on('message', (_topic, payload) => this.onAck(m, new Uint8Array(payload)));
    client.on('connect', () => this.peak(+1));
    client.on('close', () => this.peak(-1));
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error) => reject(new Error(`${m.identity.meterId}: ${e.message}`));
      client.once('connect', () => {
        client.off('error', fail);
        resolve();
      });
      client.once('error', fail);
    });
    // QoS 0, as the device's client subscribes (the Moddable SDK's sends QoS 0): a lost
    // acknowledgement costs a resend, answered duplicate. On NATS a QoS 1 subscription is a
    // replicated JetStream consumer, 10,000 of them a node refused (SUBACK 0x80).
    await client.subscribeAsync(ackTopic(m.identity.meterId), { qos: 0 });
    return client;
  }

  private peak(delta: number): void {
    this.open += delta;
    this.peakConnections = Math.max(this.peakConnections, this.open);
  }

  /** Reports slot `slot` from every identity, spread over the window after its end; resolves when all are acknowledged or `deadline` passes. */
  async reportSlot(slot: number, deadline: number): Promise<SlotSent> {
    const { slotSeconds, packing } = this.o;
    const expected = new Map<string, bigint[]>();
    const record: SlotSent = { slot, expected, stored: new Map(), refused: new Map(), reports: 0, firstSentAt: Infinity, lastAckAt: 0 };
    this.slots.push(record);
    const readingsOf = (m: LoadMeter) => {
      const start = slotStartMs(slot, slotSeconds);
      const step = (slotSeconds * 1000) / packing.readings;
      return Array.from({ length: packing.readings }, (_, i) =>
        BigInt(Math.round(householdEnergyMwh(m.household, start + i * step, start + (i + 1) * step))),
      );
    };
    const prepare = (m: LoadMeter): Pending => {
      const readings = readingsOf(m);
      for (const g of m.groups) {
        const sum = expected.get(g) ?? readings.map(() => 0n);
        expected.set(
          g,
          sum.map((s, i) => s + readings[i]),
        );
      }
      const message = encryptedReport(
        {
          meterId: m.identity.meterId,
          publicKey: this.o.publicKey,
          packing,
          macKey: m.identity.macKey,
          custodianKeys: m.identity.custodianKeys,
        },
        { slot, seq: m.seq++, readings, rn: this.o.pool.take() },
      );
      record.reports++;
      return { slot, message, waitingFor: new Set(m.groups), sentAt: 0 };
    };
    const end = slotEndMs(slot, slotSeconds);
    const done: Promise<void>[] = [];
    // Held identities: evenly over the window.
    const order = this.held.map((m, i) => ({ m, at: end + i * (this.o.spreadMs / Math.max(1, this.held.length)) }));
    const heldSending = (async () => {
      for (const { m, at } of order) {
        if (at > Date.now()) await sleep(at - Date.now());
        const p = prepare(m);
        done.push(this.sendHeld(m, p, record));
      }
    })();
    const rotatingSending = this.reportRotating(prepare, record, end, deadline);
    await Promise.all([heldSending, rotatingSending]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(done), new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
    clearTimeout(timer);
    return record;
  }

  private sendHeld(m: LoadMeter, p: Pending, record: SlotSent): Promise<void> {
    return new Promise((resolve) => {
      p.settle = () => {
        record.lastAckAt = Math.max(record.lastAckAt, Date.now());
        resolve();
      };
      m.pending.set(p.slot, p);
      this.publish(m, p, record);
    });
  }

  private publish(m: LoadMeter, p: Pending, record?: SlotSent): void {
    p.sentAt = Date.now();
    if (record) record.firstSentAt = Math.min(record.firstSentAt, p.sentAt);
    // Once on each group's topic still waiting, as the firmware does.
    for (const groupId of p.waitingFor) {
      this.published++;
      m.client!.publish(reportTopic(groupId, m.identity.meterId), Buffer.from(p.message), { qos: 1 });
    }
  }

  private resendHeld(): void {
    const now = Date.now();
    for (const m of this.held)
      for (const p of m.pending.values())
        if (now - p.sentAt >= this.o.resendMs) {
          this.resent++;
          this.publish(m, p);
        }
  }

  /** The rotating identities: `rotating` workers, each taking the next identity whose moment has come. */
  private async reportRotating(prepare: (m: LoadMeter) => Pending, record: SlotSent, end: number, deadline: number): Promise<void> {
    const queue = [...this.rotating];
    const spacing = this.o.spreadMs / Math.max(1, queue.length);
    let next = 0;
    const worker = async () => {
      while (next < queue.length && Date.now() < deadline) {
        const index = next++;
        const at = end + index * spacing;
        if (at > Date.now()) await sleep(at - Date.now());
        const m = queue[index];
        const p = prepare(m);
        await this.sendRotating(m, p, record, deadline);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.rotating, queue.length) }, worker));
  }

  private async sendRotating(m: LoadMeter, p: Pending, record: SlotSent, deadline: number): Promise<void> {
    const client = await this.open1(m, rotatingSourceAddress(this.turn++));
    try {
      await new Promise<void>((resolve) => {
        const resend = setInterval(() => {
          this.resent++;
          this.publish(m, p);
        }, this.o.resendMs);
        const stop = setTimeout(finish, Math.max(0, deadline - Date.now()));
        function finish() {
          clearInterval(resend);
          clearTimeout(stop);
          resolve();
        }
        p.settle = () => {
          record.lastAckAt = Math.max(record.lastAckAt, Date.now());
          finish();
        };
        m.pending.set(p.slot, p);
        this.publish(m, p, record);
      });
    } finally {
      m.pending.delete(p.slot);
      m.client = undefined;
      await client.endAsync();
    }
  }

  private onAck(m: LoadMeter, payload: Uint8Array): void {
    try {
      const key = m.identity.ackKeys.get(peekAckGroupId(payload));
      if (!key) throw new Error('unknown group');
      const ack = decodeAck(payload, key, hmacSha256);
      if (ack.meterId !== m.identity.meterId) throw new Error('not this meter');
      const p = m.pending.get(ack.slot);
      if (!p || !p.waitingFor.delete(ack.groupId)) {
        this.duplicateAcks++;
        return;
      }
      this.acks++;
      const record = this.slots.find((s) => s.slot === ack.slot);
      const answers = ack.status === AckStatus.refused ? record?.refused : record?.stored;
      if (answers) (answers.get(ack.groupId) ?? answers.set(ack.groupId, new Set()).get(ack.groupId)!).add(ack.meterId);
      if (p.waitingFor.size === 0) {
        m.pending.delete(ack.slot);
        p.settle?.();
      }
    } catch {
      this.badAcks++;
    }
  }

  /** Reports still unacknowledged. */
  get unacknowledged(): number {
    return this.meters.reduce((n, m) => n + m.pending.size, 0);
  }

  async close(): Promise<void> {
    clearInterval(this.resendTimer);
    await Promise.all(this.held.map((m) => m.client?.endAsync(true)));
  }
}
