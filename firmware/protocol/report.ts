/**
 * Wire format v1 of the two messages a meter exchanges: the encrypted report it publishes on
 * `meterveil/v1/meters/{meterId}/reports` and the acknowledgement an aggregator returns on
 * `meterveil/v1/meters/{meterId}/acks`. One codec, used by the firmware and the host.
 * The layout is documented in docs/wire-format.md; keep the two in step.
 */
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '../bytes.ts';
import { fail } from '../errors.ts';
import { MAC_BYTES, type Mac } from './mac.ts';

export const WIRE_VERSION = 1;
export const MESSAGE_REPORT = 1;
export const MESSAGE_ACK = 2;
/** Large enough for a 4096-bit n (8192-bit ciphertexts) and all header fields. */
export const MAX_REPORT_BYTES = 1200;
export const MAX_ACK_BYTES = 256;

const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;
const U32_MAX = 0xffffffff;

export interface Report {
  keyId: string;
  meterId: string;
  /** Slot index: the slot starts at slot * slotSeconds seconds after the Unix epoch. */
  slot: number;
  /** Per-meter counter, strictly increasing across reboots. */
  seq: number;
  /** Reports this meter's outbox has dropped since it was provisioned (cumulative). */
  dropped: number;
  /** How many sub-slot readings are packed into the plaintext (1 = one reading). */
  packed: number;
  ciphertext: Uint8Array;
}

export const AckStatus = { stored: 0, duplicate: 1, refused: 2 } as const;
export type AckStatusCode = (typeof AckStatus)[keyof typeof AckStatus];

export interface Ack {
  meterId: string;
  groupId: string;
  slot: number;
  seq: number;
  status: AckStatusCode;
}

export function reportTopic(meterId: string): string {
  return `meterveil/v1/meters/${meterId}/reports`;
}

export function ackTopic(meterId: string): string {
  return `meterveil/v1/meters/${meterId}/acks`;
}

export function isValidId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id);
}

class Writer {
  private parts: Uint8Array[] = [];
  u8(v: number) {
    this.parts.push(Uint8Array.of(v));
  }
  u16(v: number) {
    this.parts.push(Uint8Array.of(v >>> 8, v & 255));
  }
  u32(v: number) {
    this.parts.push(Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255));
  }
  bytes(b: Uint8Array) {
    this.parts.push(b);
  }
  id(s: string) {
    const b = asciiBytes(s);
    this.u8(b.length);
    this.bytes(b);
  }
  done(): Uint8Array {
    return concatBytes(...this.parts);
  }
}

class Reader {
  offset = 0;
  constructor(private readonly buf: Uint8Array) {}
  need(n: number) {
    if (this.offset + n > this.buf.length) fail('truncated', 'message ends before its fields do');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.offset++];
  }
  u16(): number {
    return (this.u8() << 8) | this.u8();
  }
  u32(): number {
    return ((this.u8() << 24) >>> 0) + (this.u8() << 16) + (this.u8() << 8) + this.u8();
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  id(what: string): string {
    const len = this.u8();
    const s = String.fromCharCode(...this.bytes(len));
    if (!ID_PATTERN.test(s)) fail('malformed-id', `${what} must be 1-64 characters of A-Z a-z 0-9 . _ -`);
    return s;
  }
}

function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function checkU32(v: number, what: string) {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) fail('out-of-range', `${what} must be an integer in 0..2^32-1`);
}

function sealMessage(body: Uint8Array, key: Uint8Array, mac: Mac): Uint8Array {
  return concatBytes(body, mac(key, body));
}

/** Splits off and checks the tag; a message whose tag does not verify is never parsed further. */
function openMessage(message: Uint8Array, key: Uint8Array, mac: Mac, maxBytes: number): Uint8Array {
  if (!(message instanceof Uint8Array)) fail('malformed', 'message must be bytes');
  if (message.length > maxBytes) fail('oversized', `message is ${message.length} bytes, the limit is ${maxBytes}`);
  if (message.length < MAC_BYTES + 2) fail('truncated', 'message is shorter than its header and tag');
  const body = message.subarray(0, message.length - MAC_BYTES);
  const tag = message.subarray(message.length - MAC_BYTES);
  if (!equalBytes(mac(key, body), tag)) fail('bad-mac', 'authentication tag does not verify');
  return body;
}

function readHeader(r: Reader, type: number) {
  const version = r.u8();
  if (version !== WIRE_VERSION) fail('unsupported-version', `wire version ${version} is not ${WIRE_VERSION}`);
  const t = r.u8();
  if (t !== type) fail('wrong-message-type', `message type ${t} where ${type} was expected`);
}

export function encodeReport(report: Report, macKey: Uint8Array, mac: Mac): Uint8Array {
  if (!KEY_ID_PATTERN.test(report.keyId)) fail('malformed-key-id', 'key id must be 16 lowercase hex characters');
  if (!isValidId(report.meterId)) fail('malformed-id', 'meter id must be 1-64 characters of A-Z a-z 0-9 . _ -');
  checkU32(report.slot, 'slot');
  checkU32(report.seq, 'sequence number');
  checkU32(report.dropped, 'dropped count');
  if (!Number.isInteger(report.packed) || report.packed < 1 || report.packed > 255) fail('out-of-range', 'packed must be 1..255');
  if (report.ciphertext.length === 0 || report.ciphertext.length > 0xffff) fail('out-of-range', 'ciphertext length');
  const w = new Writer();
  w.u8(WIRE_VERSION);
  w.u8(MESSAGE_REPORT);
  w.bytes(hexToBytes(report.keyId));
  w.id(report.meterId);
  w.u32(report.slot);
  w.u32(report.seq);
  w.u32(report.dropped);
  w.u8(report.packed);
  w.u16(report.ciphertext.length);
  w.bytes(report.ciphertext);
  return sealMessage(w.done(), macKey, mac);
}

/** Reads the meter id without authenticating, so the receiver can look up that meter's MAC key. */
export function peekReportMeterId(message: Uint8Array): string {
  if (message.length > MAX_REPORT_BYTES) fail('oversized', `message is ${message.length} bytes, the limit is ${MAX_REPORT_BYTES}`);
  const r = new Reader(message);
  readHeader(r, MESSAGE_REPORT);
  r.bytes(8);
  return r.id('meter id');
}

/**
 * Authenticates and parses a report. The ciphertext is returned as bytes: checking that it lies
 * in Z*_{n^2} needs the public key and is the receiver's next step (ciphertextFromBytes).
 */
export function decodeReport(message: Uint8Array, macKey: Uint8Array, mac: Mac): Report {
  const body = openMessage(message, macKey, mac, MAX_REPORT_BYTES);
  const r = new Reader(body);
  readHeader(r, MESSAGE_REPORT);
  const keyId = bytesToHex(r.bytes(8));
  const meterId = r.id('meter id');
  const slot = r.u32();
  const seq = r.u32();
  const dropped = r.u32();
  const packed = r.u8();
  if (packed < 1) fail('out-of-range', 'packed must be 1..255');
  const length = r.u16();
  const ciphertext = r.bytes(length).slice();
  if (r.offset !== body.length) fail('trailing-bytes', 'message has bytes after its last field');
  return { keyId, meterId, slot, seq, dropped, packed, ciphertext };
}

/** ackKey: the key of (ack.meterId, ack.groupId), which only that group's aggregator holds. */
export function encodeAck(ack: Ack, ackKey: Uint8Array, mac: Mac): Uint8Array {
  if (!isValidId(ack.meterId) || !isValidId(ack.groupId)) fail('malformed-id', 'ids must be 1-64 characters of A-Z a-z 0-9 . _ -');
  checkU32(ack.slot, 'slot');
  checkU32(ack.seq, 'sequence number');
  const w = new Writer();
  w.u8(WIRE_VERSION);
  w.u8(MESSAGE_ACK);
  w.id(ack.meterId);
  w.id(ack.groupId);
  w.u32(ack.slot);
  w.u32(ack.seq);
  w.u8(ack.status);
  return sealMessage(w.done(), ackKey, mac);
}

/**
 * Reads the group id of an acknowledgement without authenticating, so the meter can look up that
 * group's acknowledgement key; decodeAck then checks the tag.
 */
export function peekAckGroupId(message: Uint8Array): string {
  if (message.length > MAX_ACK_BYTES) fail('oversized', `message is ${message.length} bytes, the limit is ${MAX_ACK_BYTES}`);
  const r = new Reader(message);
  readHeader(r, MESSAGE_ACK);
  r.id('meter id');
  return r.id('group id');
}

/** ackKey: the key of the (meter, group) the acknowledgement claims (meter-keys.ts: deriveAckKey). */
export function decodeAck(message: Uint8Array, ackKey: Uint8Array, mac: Mac): Ack {
  const body = openMessage(message, ackKey, mac, MAX_ACK_BYTES);
  const r = new Reader(body);
  readHeader(r, MESSAGE_ACK);
  const meterId = r.id('meter id');
  const groupId = r.id('group id');
  const slot = r.u32();
  const seq = r.u32();
  const status = r.u8();
  if (status !== AckStatus.stored && status !== AckStatus.duplicate && status !== AckStatus.refused) {
    fail('out-of-range', `unknown ack status ${status}`);
  }
  if (r.offset !== body.length) fail('trailing-bytes', 'message has bytes after its last field');
  return { meterId, groupId, slot, seq, status };
}
