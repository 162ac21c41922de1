/**
 * The two messages a meter exchanges: the encrypted report (version 2) it publishes, the same
 * bytes once per group it is in, on `meterveil/v1/groups/{groupId}/reports/{meterId}` and the
 * acknowledgement (version 1) an aggregator returns on `meterveil/v1/meters/{meterId}/acks`. One codec, used by the firmware and the host.
 * A report carries, besides the aggregators' tag, one authenticator per custodian under a key the
 * meter shares with that custodian alone, so that custodians can check an aggregate report by
 * report without trusting its aggregator. The layout is documented in docs/wire-format.md; keep
 * the two in step.
 */
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from '../bytes.ts';
import { fail, MeterveilError } from '../errors.ts';
import { MAC_BYTES, type Mac } from './mac.ts';

/** Version 2 added the custodians' authenticators; a version 1 report is refused. */
export const REPORT_VERSION = 2;
export const ACK_VERSION = 1;
export const MESSAGE_REPORT = 1;
export const MESSAGE_ACK = 2;
/** At most this many custodians authenticate a report (the meter config's limit too). */
export const MAX_AUTHENTICATORS = 16;
/** Large enough for a 4096-bit n (8192-bit ciphertexts), all header fields and 16 authenticators. */
export const MAX_REPORT_BYTES = 1700;
/**
 * The report body is hashed once and each custodian's authenticator MACs the 32-byte digest, so a
 * custodian costs the meter two SHA-256 compressions, not a pass over the ciphertext. HMAC under
 * this public key is the hash: the platform port has a MAC and no bare digest.
 */
const DIGEST_KEY = asciiBytes('meterveil/v2/report-digest');
/** The public key the report digest is an HMAC under (the meter's seal job hashes with it in steps). */
export const REPORT_DIGEST_KEY = DIGEST_KEY;
export const MAX_ACK_BYTES = 256;

/**
 * A fresh RegExp per use: the firmware is preloaded, and XS's exec writes its match state into the
 * RegExp object, which a module-level one keeps in flash, read-only (lin: a segfault). No counted
 * quantifier (`{16}`, `{1,64}`): Espruino's RegExp has none and matches nothing with one, so
 * lengths are checked apart.
 */
const MAX_ID_LENGTH = 64;
const hexPattern = (): RegExp => /^[0-9a-f]+$/;
const KEY_ID_LENGTH = 16;

/** A key id: 16 lowercase hex digits. */
export function isKeyId(value: unknown): value is string {
  return typeof value === 'string' && value.length === KEY_ID_LENGTH && hexPattern().test(value);
}
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

/** What a custodian reads from a report whose authenticator it checked. */
export interface AuthenticatedReport extends Report {
  /** Authenticators the report carries (one per custodian of the deployment). */
  authenticators: number;
}

export interface Ack {
  meterId: string;
  groupId: string;
  slot: number;
  seq: number;
  status: AckStatusCode;
}

/**
 * Under the group, not the meter: its aggregator reads all its members with one subscription,
 * which a broker delivers as one queue in publication order (its backlog marker rests on that:
 * host/aggregator/backlog.ts), and NATS as one consumer rather than one per member.
 */
export function reportTopic(groupId: string, meterId: string): string {
  return `meterveil/v1/groups/${groupId}/reports/${meterId}`;
}

export function ackTopic(meterId: string): string {
  return `meterveil/v1/meters/${meterId}/acks`;
}

export function isValidId(id: unknown): id is string {
  if (typeof id !== 'string' || id.length < 1 || id.length > MAX_ID_LENGTH) return false;
  for (let i = 0; i < id.length; i++) if (!isIdByte(id.charCodeAt(i))) return false;
  return true;
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
  /** The id pattern checked byte by byte: the aggregator reads two ids per report, and a RegExp over a spread string cost more than the rest of the header. */
  id(what: string): string {
    const len = this.u8();
    const bytes = this.bytes(len);
    let s = '';
    for (let i = 0; i < len; i++) {
      if (!isIdByte(bytes[i])) break;
      s += String.fromCharCode(bytes[i]);
    }
    if (len < 1 || len > MAX_ID_LENGTH || s.length !== len) fail('malformed-id', `${what} must be 1-64 characters of A-Z a-z 0-9 . _ -`);
    return s;
  }
}

/** An id's characters: A-Z a-z 0-9 . _ - (1 to 64 of them). */
function isIdByte(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2e || b === 0x5f || b === 0x2d;
}

function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function checkU32(v: number, what: string) {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) fail('out-of-range', `${what} must be an integer in 0..2^32-1`);
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

function readHeader(r: Reader, type: number, expected: number) {
  const version = r.u8();
  if (version !== expected) fail('unsupported-version', `wire version ${version} is not ${expected}`);
  const t = r.u8();
  if (t !== type) fail('wrong-message-type', `message type ${t} where ${type} was expected`);
}

/**
 * custodianKeys: the meter's key of custodian 1, 2, ... (meter-keys.ts: deriveCustodianKey); the
 * report carries one authenticator per key, in that order.
 */
export function encodeReport(report: Report, macKey: Uint8Array, mac: Mac, custodianKeys: readonly Uint8Array[] = []): Uint8Array {
  if (custodianKeys.length > MAX_AUTHENTICATORS) fail('out-of-range', `at most ${MAX_AUTHENTICATORS} custodians`);
  const body = reportBody(report);
  const digest = mac(DIGEST_KEY, body);
  return finishReport(
    body,
    digest,
    custodianKeys.map((key) => mac(key, digest)),
    macKey,
    mac,
  );
}

/** Version to ciphertext: what the digest covers. */
export function reportBody(report: Report): Uint8Array {
  if (!isKeyId(report.keyId)) fail('malformed-key-id', 'key id must be 16 lowercase hex characters');
  if (!isValidId(report.meterId)) fail('malformed-id', 'meter id must be 1-64 characters of A-Z a-z 0-9 . _ -');
  checkU32(report.slot, 'slot');
  checkU32(report.seq, 'sequence number');
  checkU32(report.dropped, 'dropped count');
  if (!Number.isInteger(report.packed) || report.packed < 1 || report.packed > 255) fail('out-of-range', 'packed must be 1..255');
  if (report.ciphertext.length === 0 || report.ciphertext.length > 0xffff) fail('out-of-range', 'ciphertext length');
  const w = new Writer();
  w.u8(REPORT_VERSION);
  w.u8(MESSAGE_REPORT);
  w.bytes(hexToBytes(report.keyId));
  w.id(report.meterId);
  w.u32(report.slot);
  w.u32(report.seq);
  w.u32(report.dropped);
  w.u8(report.packed);
  w.u16(report.ciphertext.length);
  w.bytes(report.ciphertext);
  return w.done();
}

/** The body, its custodians' authenticators (each over the digest) and the aggregators' tag. */
export function finishReport(
  body: Uint8Array,
  digest: Uint8Array,
  custodianTags: readonly Uint8Array[],
  macKey: Uint8Array,
  mac: Mac,
): Uint8Array {
  if (custodianTags.length > MAX_AUTHENTICATORS) fail('out-of-range', `at most ${MAX_AUTHENTICATORS} custodians`);
  const tail = new Writer();
  tail.u8(custodianTags.length);
  for (const tag of custodianTags) tail.bytes(tag);
  const authenticators = tail.done();
  return concatBytes(body, authenticators, mac(macKey, concatBytes(digest, authenticators)));
}

/** Reads the meter id without authenticating, so the receiver can look up that meter's MAC key. */
export function peekReportMeterId(message: Uint8Array): string {
  if (message.length > MAX_REPORT_BYTES) fail('oversized', `message is ${message.length} bytes, the limit is ${MAX_REPORT_BYTES}`);
  const r = new Reader(message);
  readHeader(r, MESSAGE_REPORT, REPORT_VERSION);
  r.bytes(8);
  return r.id('meter id');
}

interface ReportParts {
  /** Version to ciphertext: what the digest covers. */
  body: Uint8Array;
  digest: Uint8Array;
  /** The authenticator count and the authenticators. */
  authenticators: Uint8Array;
  tag: Uint8Array;
}

/**
 * Splits a report by its two length fields only (meter id, ciphertext) and hashes the body;
 * nothing else is read before a tag or an authenticator verifies. Lengths that do not fit the
 * message cannot be authenticated, and are refused as a tag that does not verify.
 */
function splitReport(message: Uint8Array, mac: Mac): ReportParts {
  if (!(message instanceof Uint8Array)) fail('malformed', 'message must be bytes');
  if (message.length > MAX_REPORT_BYTES) fail('oversized', `message is ${message.length} bytes, the limit is ${MAX_REPORT_BYTES}`);
  if (message.length < 27 + MAC_BYTES) fail('truncated', 'message is shorter than its header and tag');
  const tagAt = message.length - MAC_BYTES;
  const idLength = message[10];
  const lengthAt = 24 + idLength;
  const bodyEnd = lengthAt + 2 > tagAt ? tagAt + 1 : lengthAt + 2 + ((message[lengthAt] << 8) | message[lengthAt + 1]);
  if (bodyEnd >= tagAt) fail('bad-mac', 'authentication tag does not verify: the lengths leave no room for it');
  const body = message.subarray(0, bodyEnd);
  return { body, digest: mac(DIGEST_KEY, body), authenticators: message.subarray(bodyEnd, tagAt), tag: message.subarray(tagAt) };
}

/** The fields of an authenticated report. */
function parseReport({ body, authenticators }: ReportParts): AuthenticatedReport {
  const r = new Reader(body);
  readHeader(r, MESSAGE_REPORT, REPORT_VERSION);
  const keyId = bytesToHex(r.bytes(8));
  const meterId = r.id('meter id');
  const slot = r.u32();
  const seq = r.u32();
  const dropped = r.u32();
  const packed = r.u8();
  if (packed < 1) fail('out-of-range', 'packed must be 1..255');
  const length = r.u16();
  // A view of the message, not a copy: receivers read it at once (the aggregator into a BigInt).
  const ciphertext = r.bytes(length);
  const count = authenticators[0];
  if (count > MAX_AUTHENTICATORS) fail('out-of-range', `${count} authenticators, at most ${MAX_AUTHENTICATORS}`);
  if (authenticators.length < 1 + count * MAC_BYTES) fail('truncated', 'message ends before its authenticators do');
  if (authenticators.length > 1 + count * MAC_BYTES) fail('trailing-bytes', 'message has bytes after its last field');
  return { keyId, meterId, slot, seq, dropped, packed, ciphertext, authenticators: count };
}

/**
 * Authenticates (the aggregators' tag, under the meter's MAC key) and parses a report. The
 * ciphertext is returned as bytes: checking that it lies in Z*_{n^2} needs the public key and is
 * the receiver's next step (ciphertextFromBytes).
 */
export function decodeReport(message: Uint8Array, macKey: Uint8Array, mac: Mac): AuthenticatedReport {
  const parts = splitReport(message, mac);
  if (!equalBytes(mac(macKey, concatBytes(parts.digest, parts.authenticators)), parts.tag)) {
    fail('bad-mac', 'authentication tag does not verify');
  }
  return parseReport(parts);
}

/**
 * What custodian `index` (1-based) checks of a report an aggregator passed on: its own
 * authenticator, under the key it shares with the meter. The aggregators' tag is not checked (the
 * custodian does not hold their key); a report whose body was changed in any bit, or which carries
 * no authenticator for this custodian, is refused as `bad-authenticator`.
 */
export function openReportAsCustodian(message: Uint8Array, index: number, custodianKey: Uint8Array, mac: Mac): AuthenticatedReport {
  let parts: ReportParts;
  try {
    parts = splitReport(message, mac);
  } catch (e) {
    if (e instanceof MeterveilError && e.reason === 'bad-mac') fail('bad-authenticator', e.message);
    throw e;
  }
  const { digest, authenticators } = parts;
  const count = authenticators[0];
  const at = 1 + (index - 1) * MAC_BYTES;
  if (!Number.isInteger(index) || index < 1 || index > count || authenticators.length < at + MAC_BYTES) {
    fail('bad-authenticator', `the report carries ${count} authenticator(s), none for custodian ${index}`);
  }
  if (!equalBytes(mac(custodianKey, digest), authenticators.subarray(at, at + MAC_BYTES))) {
    fail('bad-authenticator', `the report does not carry custodian ${index}'s authenticator`);
  }
  return parseReport(parts);
}

/** ackKey: the key of (ack.meterId, ack.groupId), which only that group's aggregator holds. */
export function encodeAck(ack: Ack, ackKey: Uint8Array, mac: Mac): Uint8Array {
  const { meterId, groupId } = ack;
  if (!isValidId(meterId) || !isValidId(groupId)) fail('malformed-id', 'ids must be 1-64 characters of A-Z a-z 0-9 . _ -');
  checkU32(ack.slot, 'slot');
  checkU32(ack.seq, 'sequence number');
  // Written in place, body then tag, in one buffer: the aggregator writes one per report.
  const bodyLength = 2 + 1 + meterId.length + 1 + groupId.length + 4 + 4 + 1;
  const out = new Uint8Array(bodyLength + MAC_BYTES);
  let at = 0;
  out[at++] = ACK_VERSION;
  out[at++] = MESSAGE_ACK;
  for (const id of [meterId, groupId]) {
    out[at++] = id.length;
    for (let i = 0; i < id.length; i++) out[at++] = id.charCodeAt(i);
  }
  for (const v of [ack.slot, ack.seq]) {
    out[at++] = v >>> 24;
    out[at++] = (v >>> 16) & 255;
    out[at++] = (v >>> 8) & 255;
    out[at++] = v & 255;
  }
  out[at] = ack.status;
  out.set(mac(ackKey, out.subarray(0, bodyLength)), bodyLength);
  return out;
}

/**
 * Reads the group id of an acknowledgement without authenticating, so the meter can look up that
 * group's acknowledgement key; decodeAck then checks the tag.
 */
export function peekAckGroupId(message: Uint8Array): string {
  if (message.length > MAX_ACK_BYTES) fail('oversized', `message is ${message.length} bytes, the limit is ${MAX_ACK_BYTES}`);
  const r = new Reader(message);
  readHeader(r, MESSAGE_ACK, ACK_VERSION);
  r.id('meter id');
  return r.id('group id');
}

/** ackKey: the key of the (meter, group) the acknowledgement claims (meter-keys.ts: deriveAckKey). */
export function decodeAck(message: Uint8Array, ackKey: Uint8Array, mac: Mac): Ack {
  const body = openMessage(message, ackKey, mac, MAX_ACK_BYTES);
  const r = new Reader(body);
  readHeader(r, MESSAGE_ACK, ACK_VERSION);
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
