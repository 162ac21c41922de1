/**
 * The SDK's `crypt` Digest interface over node:crypto, so the device's HMAC construction
 * (firmware/platform/moddable/hmac.ts) can be checked here, where the Moddable SDK is not
 * installed. Only the calls that file makes.
 */
import { createHash, type Hash } from 'node:crypto';

export class Digest {
  private hash: Hash;

  constructor(private readonly type: string) {
    if (type !== 'SHA256') throw new Error(`unsupported digest ${type}`);
    this.hash = createHash('sha256');
  }

  write(data: ArrayBuffer): void {
    this.hash.update(new Uint8Array(data));
  }

  close(): ArrayBuffer {
    const out = this.hash.digest();
    this.hash = createHash('sha256');
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength);
  }
}
