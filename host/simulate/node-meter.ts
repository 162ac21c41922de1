/**
 * A meter written in Node with the shared codec and real Paillier encryption, or the masked
 * scheme's masking (firmware/masked/), for pipeline tests, `start --scheme masked` and the
 * benchmark: it publishes authenticated reports under its own credentials and keeps each in an
 * outbox, resending it until every one of its groups has acknowledged it. A masked meter writes
 * each (key id, slot) to its ledger before the report leaves (firmware/masked/ledger.ts).
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { fail } from '../../firmware/errors.ts';
import { slotPackingFor } from '../../firmware/config/packing.ts';
import { MaskLedger } from '../../firmware/masked/ledger.ts';
import { maskedPackingFor } from '../../firmware/masked/params.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import type { Storage } from '../../firmware/platform/port.ts';
import { maskReadings } from '../../firmware/masked/seal.ts';
import type { SlotPacking } from '../../firmware/paillier/packing.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { ackTopic, decodeAck, encodeReport, peekAckGroupId, reportTopic, type Ack, type Report } from '../../firmware/protocol/report.ts';
import { connected, connectRole, endClient } from '../mqtt/client.ts';
import { meterUser } from '../config/identities.ts';
import { encryptedReport } from '../load/report.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { custodianIndices, meterAckKey, meterCustodianKey, meterMacKey, meterMaskKey, type Secrets } from '../config/secrets.ts';
import { brokerConnection } from '../tls/files.ts';

export interface NodeMeterOptions {
  meterId: string;
  groups: string[];
  /** Paillier: the key reports are encrypted under (none when `masked` is given). */
  publicKey?: PaillierPublicKey;
  /**
   * The masked scheme: the key id, the meter's mask keys (the provider's, or custodian 1..n's) and
   * the ledger in the meter's storage, which outlives a reboot (a new NodeMeter on the same storage).
   */
  masked?: { keyId: string; maskKeys: Uint8Array[]; ledger: MaskLedger };
  macKey: Uint8Array;
  /** By group: the key that group's aggregator acknowledges with. */
  ackKeys: Map<string, Uint8Array>;
  /** Threshold mode: the meter's key of custodian 1, 2, ...; one authenticator each in every report. */
  custodianKeys?: Uint8Array[];
  password: string;
  url: string;
  /** mqtts://: the CA (PEM) the broker must chain to. */
  ca?: string;
  packing: SlotPacking;
  resendMs?: number;
  /** Supplies r^n; defaults to a fresh full exponentiation per report. */
  rn?: () => bigint;
}

interface OutboxEntry {
  message: Uint8Array;
  waitingFor: Set<string>;
  done: () => void;
}

export class NodeMeter {
  readonly acks: Ack[] = [];
  readonly client: MqttClient;
  private seq = 1;
  private readonly outbox = new Map<number, OutboxEntry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: NodeMeterOptions) {
    this.client = connectRole({ url: o.url, ca: o.ca, username: meterUser(o.meterId), password: o.password, persistent: false });
    this.client.on('message', (_topic, payload) => this.onAck(payload));
  }

  async connect(): Promise<void> {
    await connected(this.client);
    await this.client.subscribeAsync(ackTopic(this.o.meterId), { qos: 1 });
    this.timer = setInterval(() => this.resend(), this.o.resendMs ?? 1500);
  }

  get pending(): number {
    return this.outbox.size;
  }

  /** Encrypts and sends one slot's readings; resolves once every group has acknowledged. */
  report(slot: number, readings: bigint[], overrides: Partial<Report> = {}): Promise<void> {
    return this.send(slot, this.encode(slot, readings, overrides));
  }

  encode(slot: number, readings: bigint[], overrides: Partial<Report> = {}, macKey = this.o.macKey): Uint8Array {
    const { packing, masked } = this.o;
    if (!masked) {
      const publicKey = this.paillierKey();
      const rn = this.o.rn ? this.o.rn() : publicKey.precomputeRn((n) => new Uint8Array(randomBytes(n)));
      return encryptedReport({ ...this.o, publicKey }, { slot, seq: this.seq++, readings, rn }, overrides, macKey);
    }
    const report: Report = {
      keyId: masked.keyId,
      meterId: this.o.meterId,
      slot,
      seq: this.seq++,
      dropped: 0,
      packed: packing.readings,
      ciphertext: new Uint8Array(0),
      ...overrides,
    };
    if (!overrides.ciphertext) {
      report.ciphertext = maskReadings(readings, packing, masked.maskKeys, report.keyId, report.slot, hmacSha256);
      // Durable before the report leaves: after a reboot this slot cannot go out with another value.
      masked.ledger.claim(report.keyId, report.slot, report.ciphertext);
    }
    return encodeReport(report, macKey, hmacSha256, this.o.custodianKeys);
  }

  private paillierKey(): PaillierPublicKey {
    return this.o.publicKey ?? fail('key-missing', `meter ${this.o.meterId} has neither a Paillier key nor mask keys`);
  }

  send(slot: number, message: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      const entry = { message, waitingFor: new Set(this.o.groups), done: resolve };
      this.outbox.set(slot, entry);
      this.publishEntry(entry);
    });
  }

  /** Once on each group's topic that has not acknowledged it, as the firmware does. */
  private publishEntry(entry: { message: Uint8Array; waitingFor: Set<string> }): void {
    for (const groupId of entry.waitingFor) this.publishRaw(reportTopic(groupId, this.o.meterId), entry.message);
  }

  publishRaw(topic: string, message: Uint8Array): void {
    this.client.publish(topic, Buffer.from(message), { qos: 1 });
  }

  private onAck(payload: Uint8Array): void {
    let ack: Ack;
    try {
      const ackKey = this.o.ackKeys.get(peekAckGroupId(payload));
      if (!ackKey) return;
      ack = decodeAck(payload, ackKey, hmacSha256);
    } catch {
      return;
    }
    if (ack.meterId !== this.o.meterId) return;
    this.acks.push(ack);
    const entry = this.outbox.get(ack.slot);
    if (!entry) return;
    entry.waitingFor.delete(ack.groupId);
    if (entry.waitingFor.size === 0) {
      this.outbox.delete(ack.slot);
      entry.done();
    }
  }

  private resend(): void {
    for (const entry of this.outbox.values()) this.publishEntry(entry);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await endClient(this.client);
  }
}

/** A Node meter of a deployment's config with its provisioned keys (not yet connected). */
export function nodeMeterOf(
  d: { config: MeterveilConfig; secrets: Secrets; publicKey?: PaillierPublicKey },
  meterId: string,
  groups: string[],
  extra: Partial<NodeMeterOptions> = {},
  /** A masked meter's storage, where its ledger lives: a second meter on the same storage is the first rebooted. */
  storage: Storage = new MemoryStorage(),
): NodeMeter {
  const { config, secrets, publicKey } = d;
  const { scheme } = config;
  const masked = scheme.name === 'masked' && {
    keyId: scheme.keyId,
    // The provider's key (holder 0), or one per custodian: the meter's mask is their sum.
    maskKeys: (custodianIndices(config).length > 0 ? custodianIndices(config) : [0]).map((holder) =>
      meterMaskKey(secrets, meterId, scheme.keyId, holder),
    ),
    ledger: new MaskLedger(storage),
  };
  return new NodeMeter({
    meterId,
    groups,
    publicKey,
    macKey: meterMacKey(secrets, meterId),
    ackKeys: new Map(groups.map((g) => [g, meterAckKey(secrets, meterId, g)])),
    custodianKeys: custodianIndices(config).map((index) => meterCustodianKey(secrets, meterId, index)),
    password: secrets.meters[meterId].password,
    ...brokerConnection(config),
    packing: masked
      ? maskedPackingFor(config.slotSeconds, config.packing)
      : slotPackingFor(
          config.slotSeconds,
          config.packing,
          (publicKey ?? fail('key-missing', 'a Paillier meter needs the public key')).bits,
        ),
    ...(masked ? { masked } : {}),
    ...extra,
  });
}
