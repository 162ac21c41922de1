/**
 * Frames the bytes of one MQTT connection before the broker's parser sees them, and refuses a
 * connection as soon as a packet's fixed header declares more than the broker will accept: aedes
 * (with mqtt-packet) would otherwise buffer whatever length a client declares, before it has even
 * authenticated. The first packet must be a CONNECT of at most `maxConnectBytes`; every later one
 * at most `maxPacketBytes`. Bytes pass through unchanged; only lengths are read.
 */
import { Transform, type TransformCallback } from 'node:stream';

const CONNECT = 1;
/** The remaining length is a base-128 number of at most four bytes (MQTT 3.1.1 2.2.3, 5.0 2.1.4). */
const MAX_LENGTH_BYTES = 4;

export interface FrameLimits {
  maxConnectBytes: number;
  maxPacketBytes: number;
}

export type FrameRefusal = 'connect-expected' | 'oversized-packet' | 'malformed-packet';

export class MqttFrameGuard extends Transform {
  private packets = 0;
  /** Bytes of the current packet's body still to pass. */
  private body = 0;
  /** The fixed header being read: its first byte and the length bytes so far. */
  private header: number[] = [];

  constructor(
    private readonly limits: FrameLimits,
    private readonly onRefused: (reason: FrameRefusal, detail: string) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.body > 0) {
        const n = Math.min(this.body, chunk.length - i);
        this.body -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i++]);
      if (this.header.length === 1) continue;
      if (this.header[this.header.length - 1] & 0x80) {
        if (this.header.length > MAX_LENGTH_BYTES) return this.refuse('malformed-packet', 'remaining length longer than four bytes', done);
        continue;
      }
      const refusal = this.check(this.header[0] >> 4, remainingLength(this.header));
      if (refusal) return this.refuse(refusal[0], refusal[1], done);
      this.packets++;
      this.body = remainingLength(this.header);
      this.header = [];
    }
    done(null, chunk);
  }

  private check(type: number, length: number): [FrameRefusal, string] | undefined {
    if (this.packets === 0 && type !== CONNECT) return ['connect-expected', `packet type ${type} before CONNECT`];
    const limit = this.packets === 0 ? this.limits.maxConnectBytes : this.limits.maxPacketBytes;
    if (length > limit) return ['oversized-packet', `packet type ${type} declares ${length} bytes, limit ${limit}`];
    return undefined;
  }

  private refuse(reason: FrameRefusal, detail: string, done: TransformCallback): void {
    this.onRefused(reason, detail);
    done(new Error(`${reason}: ${detail}`));
  }
}

function remainingLength(header: number[]): number {
  let value = 0;
  for (let i = header.length - 1; i >= 1; i--) value = value * 128 + (header[i] & 0x7f);
  return value;
}
