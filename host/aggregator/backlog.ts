/**
 * Knowing when a (re)connected aggregator has its backlog: the reports its persistent session
 * collected at the broker while it was away. It subscribes, then publishes a marker (a fresh
 * nonce) at QoS 1 on a topic only it may publish, under the filter it reads its members' reports
 * through (host/protocol/topics.ts); the broker appends the marker to that subscription's queue,
 * so when the marker comes back everything queued before it has been delivered.
 *
 * MQTT promises order only per topic and publisher (3.1.1 section 4.6, MQTT 5 section 4.6), so
 * this rests on the brokers keeping one subscription's queue in order: mosquitto 2.0 keeps one
 * queue per session and delivers new messages behind the queued ones; aedes 1.2 with its
 * in-memory persistence delivers a new message live while it still streams the queue, so the
 * embedded broker holds a client's own publications until its queue has gone out
 * (host/broker/embedded.ts); NATS 2.9 makes the subscription one JetStream consumer, which
 * delivers in the stream's order. All three are checked by test/pipeline/outage.test.ts.
 * A marker lost (a full queue drops new messages) is published again every MARKER_RESEND_MS.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';

const MARKER_RESEND_MS = 5000;

export class BacklogMarker {
  private nonce: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: MqttClient,
    readonly topic: string,
  ) {}

  /** Whether a marker is out and not yet back. */
  get waiting(): boolean {
    return this.nonce !== undefined;
  }

  /** Publishes a new marker; one from an earlier connection no longer counts. */
  begin(): void {
    this.cancel();
    const nonce = randomBytes(16).toString('hex');
    this.nonce = nonce;
    const send = () => this.client.publish(this.topic, nonce, { qos: 1 });
    send();
    this.timer = setInterval(send, MARKER_RESEND_MS);
  }

  /** True when this is the marker awaited (the backlog is in); anything else on the topic is ignored. */
  receive(payload: Uint8Array): boolean {
    if (this.nonce === undefined || Buffer.from(payload).toString() !== this.nonce) return false;
    this.cancel();
    return true;
  }

  cancel(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.nonce = undefined;
  }
}
