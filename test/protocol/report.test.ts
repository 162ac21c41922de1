import test from 'ava';
import fc from 'fast-check';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { MeterveilError, type Reason } from '../../firmware/errors.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { deriveAckKey } from '../../firmware/protocol/meter-keys.ts';
import {
  ackTopic,
  decodeAck,
  decodeReport,
  encodeAck,
  encodeReport,
  MAX_REPORT_BYTES,
  peekAckGroupId,
  peekReportMeterId,
  reportTopic,
  type Ack,
  type Report,
} from '../../firmware/protocol/report.ts';
import vectors from '../vectors/wire-v1.json' with { type: 'json' };

const macKey = hexToBytes(vectors.macKey);
const otherKey = new Uint8Array(32).fill(9);

function refuses(t: import('ava').ExecutionContext, fn: () => unknown, reason: Reason) {
  const e = t.throws(fn, { instanceOf: MeterveilError });
  t.is(e?.reason, reason, e?.message);
}

const reportOf = (v: (typeof vectors.reports)[number]): Report => ({
  keyId: v.keyId,
  meterId: v.meterId,
  slot: v.slot,
  seq: v.seq,
  dropped: v.dropped,
  packed: v.packed,
  ciphertext: hexToBytes(v.ciphertext),
});

test('reports encode to the independently computed vectors and decode back', (t) => {
  for (const v of vectors.reports) {
    const wire = encodeReport(reportOf(v), macKey, hmacSha256);
    t.is(bytesToHex(wire), v.wire);
    t.deepEqual(decodeReport(hexToBytes(v.wire), macKey, hmacSha256), reportOf(v));
    t.is(peekReportMeterId(hexToBytes(v.wire)), v.meterId);
  }
});

test('acks encode to the independently computed vectors, under the key derived for their group, and decode back', (t) => {
  for (const v of vectors.acks) {
    const { wire, ackKey: ackKeyHex, ...ack } = v;
    const ackKey = deriveAckKey(hexToBytes(vectors.deviceKey), ack.groupId, hmacSha256);
    t.is(bytesToHex(ackKey), ackKeyHex);
    t.is(bytesToHex(encodeAck(ack as Ack, ackKey, hmacSha256)), wire);
    t.deepEqual(decodeAck(hexToBytes(wire), ackKey, hmacSha256), ack);
    t.is(peekAckGroupId(hexToBytes(wire)), ack.groupId);
  }
});

test("an ack sealed under one group's key does not verify under another group's key, nor under the MAC key", (t) => {
  const deviceKey = hexToBytes(vectors.deviceKey);
  const ack: Ack = { meterId: 'm', groupId: 'g1', slot: 3, seq: 4, status: 0 };
  const wire = encodeAck(ack, deriveAckKey(deviceKey, 'g1', hmacSha256), hmacSha256);
  refuses(t, () => decodeAck(wire, deriveAckKey(deviceKey, 'g2', hmacSha256), hmacSha256), 'bad-mac');
  refuses(t, () => decodeAck(wire, macKey, hmacSha256), 'bad-mac');
});

test('topics are per meter', (t) => {
  t.is(reportTopic('m1'), 'meterveil/v1/meters/m1/reports');
  t.is(ackTopic('m1'), 'meterveil/v1/meters/m1/acks');
});

test('any single flipped bit is caught by the tag', (t) => {
  const wire = hexToBytes(vectors.reports[1].wire);
  for (let i = 0; i < wire.length; i++) {
    const bad = wire.slice();
    bad[i] ^= 1 << (i % 8);
    refuses(t, () => decodeReport(bad, macKey, hmacSha256), 'bad-mac');
  }
  refuses(t, () => decodeReport(wire, otherKey, hmacSha256), 'bad-mac');
});

test('truncated, oversized, wrong-type and trailing-byte messages are refused by name', (t) => {
  const seal = (body: Uint8Array) => new Uint8Array([...body, ...hmacSha256(macKey, body)]);
  const wire = hexToBytes(vectors.reports[0].wire);
  const body = wire.subarray(0, wire.length - 32);
  refuses(t, () => decodeReport(wire.subarray(0, 100), macKey, hmacSha256), 'bad-mac');
  refuses(t, () => decodeReport(wire.subarray(0, 20), macKey, hmacSha256), 'truncated');
  refuses(t, () => decodeReport(new Uint8Array(5), macKey, hmacSha256), 'truncated');
  refuses(t, () => decodeReport(new Uint8Array(MAX_REPORT_BYTES + 1), macKey, hmacSha256), 'oversized');
  refuses(t, () => decodeReport(seal(body.subarray(0, body.length - 3)), macKey, hmacSha256), 'truncated');
  refuses(t, () => decodeReport(seal(new Uint8Array([...body, 0])), macKey, hmacSha256), 'trailing-bytes');
  refuses(t, () => decodeReport(seal(new Uint8Array([2, ...body.subarray(1)])), macKey, hmacSha256), 'unsupported-version');
  const ackUnderMacKey = encodeAck({ meterId: 'm', groupId: 'g', slot: 1, seq: 1, status: 0 }, macKey, hmacSha256);
  refuses(t, () => decodeReport(ackUnderMacKey, macKey, hmacSha256), 'wrong-message-type');
  refuses(t, () => decodeAck(wire, macKey, hmacSha256), 'oversized');
  const badId = body.slice();
  badId[11] = 0x2f; // '/' would let a meter id reach into another topic level
  refuses(t, () => decodeReport(seal(badId), macKey, hmacSha256), 'malformed-id');
});

test('the encoder refuses fields it cannot represent', (t) => {
  const base = reportOf(vectors.reports[0]);
  refuses(t, () => encodeReport({ ...base, meterId: 'a/b' }, macKey, hmacSha256), 'malformed-id');
  refuses(t, () => encodeReport({ ...base, meterId: '+' }, macKey, hmacSha256), 'malformed-id');
  refuses(t, () => encodeReport({ ...base, keyId: 'xyz' }, macKey, hmacSha256), 'malformed-key-id');
  refuses(t, () => encodeReport({ ...base, slot: 2 ** 32 }, macKey, hmacSha256), 'out-of-range');
  refuses(t, () => encodeReport({ ...base, seq: -1 }, macKey, hmacSha256), 'out-of-range');
  refuses(t, () => encodeReport({ ...base, packed: 0 }, macKey, hmacSha256), 'out-of-range');
});

test('round trip for arbitrary valid reports', (t) => {
  const id = fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/);
  const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  fc.assert(
    fc.property(
      fc.record({
        keyId: fc.stringMatching(/^[0-9a-f]{16}$/),
        meterId: id,
        slot: u32,
        seq: u32,
        dropped: u32,
        packed: fc.integer({ min: 1, max: 255 }),
        ciphertext: fc.uint8Array({ minLength: 1, maxLength: 1024 }),
      }),
      (report) => {
        const back = decodeReport(encodeReport(report, macKey, hmacSha256), macKey, hmacSha256);
        return (
          JSON.stringify({ ...back, ciphertext: [...back.ciphertext] }) ===
          JSON.stringify({ ...report, ciphertext: [...report.ciphertext] })
        );
      },
    ),
  );
  t.pass();
});
