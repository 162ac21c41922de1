/**
 * The receiving end of `meterveil simulate` on its own embedded broker, where no aggregators
 * run: subscribes to every group's reports, verifies each with the meter's MAC key and
 * acknowledges it for the group whose topic it came on, with that group's key, the way the group's
 * aggregator does (stored the first time, duplicate after), so the meters' outboxes drain. It keeps what arrived, encrypted, for counting and for
 * tests that hold the private key. It never decrypts.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { deriveAckKey } from '../../firmware/protocol/meter-keys.ts';
import { AckStatus, ackTopic, decodeReport, encodeAck, peekReportMeterId, type Report } from '../../firmware/protocol/report.ts';
import { reportTopicParts } from '../protocol/topics.ts';

/** Every group's reports: the sink stands in for all the aggregators. */
const ALL_REPORTS = 'meterveil/v1/groups/+/reports/+';

export interface SinkMeter {
  macKey: Uint8Array;
  /** The meter's device key: the sink acknowledges for every group, so it derives each group's key. */
  deviceKey: Uint8Array;
  groups: string[];
}

export class ReportSink {
  readonly reports: Report[] = [];
  /** The group whose topic each of `reports` came on, in the same order. */
  readonly groupsOfReports: string[] = [];
  readonly rejected: string[] = [];
  acking = true;
  /** False while the broker is away, until the subscription is back. */
  subscribed = false;
  /** Acknowledgements published, per meter. */
  readonly acksSent = new Map<string, number>();
  /** (group, meter, slot) acknowledged as stored. */
  private readonly stored = new Set<string>();
  private constructor(
    private readonly client: MqttClient,
    private readonly meters: Map<string, SinkMeter>,
  ) {}

  static async connect(
    url: string,
    meters: Map<string, SinkMeter>,
    credentials: { username?: string; password?: string; ca?: string } = {},
  ): Promise<ReportSink> {
    const client = await mqtt.connectAsync(url, {
      clientId: `report-sink-${process.pid}-${Math.floor(performance.now())}`,
      reconnectPeriod: 200,
      ...credentials,
    });
    const collector = new ReportSink(client, meters);
    client.on('message', (topic, payload) => collector.receive(topic, new Uint8Array(payload)));
    await client.subscribeAsync(ALL_REPORTS, { qos: 1 });
    collector.subscribed = true;
    client.on('close', () => {
      collector.subscribed = false;
    });
    client.on('connect', () =>
      client.subscribe(ALL_REPORTS, { qos: 1 }, () => {
        collector.subscribed = true;
      }),
    );
    return collector;
  }

  /** Distinct reports (by meter, slot and seq): retransmissions collapse into one. */
  distinct(meterId?: string): Report[] {
    const seen = new Map<string, Report>();
    for (const r of this.reports) {
      if (meterId !== undefined && r.meterId !== meterId) continue;
      seen.set(`${r.meterId}/${r.slot}/${r.seq}`, r);
    }
    return [...seen.values()].sort((a, b) => a.seq - b.seq);
  }

  /** One report on one group's topic, acknowledged for that group (a meter publishes once per group). */
  private receive(topic: string, payload: Uint8Array): void {
    let report: Report;
    let meter: SinkMeter | undefined;
    const at = reportTopicParts(topic);
    try {
      const meterId = peekReportMeterId(payload);
      meter = this.meters.get(meterId);
      if (!meter || !at || at.meterId !== meterId || !meter.groups.includes(at.groupId)) throw new Error('unknown meter');
      report = decodeReport(payload, meter.macKey, hmacSha256);
    } catch (error) {
      this.rejected.push((error as Error).message);
      return;
    }
    const key = `${at.groupId}/${report.meterId}/${report.slot}`;
    const duplicate = this.stored.has(key);
    this.stored.add(key);
    this.reports.push(report);
    this.groupsOfReports.push(at.groupId);
    if (!this.acking) return;
    const ack = encodeAck(
      {
        meterId: report.meterId,
        groupId: at.groupId,
        slot: report.slot,
        seq: report.seq,
        status: duplicate ? AckStatus.duplicate : AckStatus.stored,
      },
      deriveAckKey(meter.deviceKey, at.groupId, hmacSha256),
      hmacSha256,
    );
    this.client.publish(ackTopic(report.meterId), Buffer.from(ack), { qos: 1 });
    this.acksSent.set(report.meterId, (this.acksSent.get(report.meterId) ?? 0) + 1);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
