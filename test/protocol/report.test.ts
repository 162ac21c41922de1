import test from 'ava';
import fc from 'fast-check';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { MeterveilError, type Reason } from '../../firmware/errors.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { deriveAckKey, deriveCustodianKey } from '../../firmware/protocol/meter-keys.ts';
import {
  ackTopic,
  decodeAck,
  decodeReport,
  encodeAck,
  encodeReport,
  isValidId,
  MAX_REPORT_BYTES,
  openReportAsCustodian,
  peekAckGroupId,
  peekReportMeterId,
  reportTopic,
  type Ack,
  type Report,
} from '../../firmware/protocol/report.ts';
import vectors from '../vectors/wire-v2.json' with { type: 'json' };

const macKey = hexToBytes(vectors.macKey);
const deviceKey = hexToBytes(vectors.deviceKey);
const custodianKeys = (n: number) => Array.from({ length: n }, (_, i) => deriveCustodianKey(deviceKey, i + 1, hmacSha256));
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

test('reports encode to the independently computed vectors, with one authenticator per custodian, and decode back', (t) => {
  t.deepEqual(custodianKeys(3).map(bytesToHex), vectors.custodianKeys);
  for (const v of vectors.reports) {
    const wire = encodeReport(reportOf(v), macKey, hmacSha256, custodianKeys(v.custodians));
    t.is(bytesToHex(wire), v.wire);
    t.deepEqual(decodeReport(hexToBytes(v.wire), macKey, hmacSha256), { ...reportOf(v), authenticators: v.custodians });
    t.is(peekReportMeterId(hexToBytes(v.wire)), v.meterId);
    custodianKeys(v.custodians).forEach((key, i) =>
      t.deepEqual(openReportAsCustodian(hexToBytes(v.wire), i + 1, key, hmacSha256), { ...reportOf(v), authenticators: v.custodians }),
    );
  }
});

test("a custodian's authenticator: refused under another custodian's key, for a custodian the report has none for, and after any change to the body", (t) => {
  const v = vectors.reports[0];
  const wire = hexToBytes(v.wire);
  const [k1, k2] = custodianKeys(2);
  refuses(t, () => openReportAsCustodian(wire, 1, k2, hmacSha256), 'bad-authenticator');
  refuses(t, () => openReportAsCustodian(wire, 4, k1, hmacSha256), 'bad-authenticator');
  refuses(t, () => openReportAsCustodian(wire, 0, k1, hmacSha256), 'bad-authenticator');
  refuses(t, () => openReportAsCustodian(hexToBytes(vectors.reports[1].wire), 1, k1, hmacSha256), 'bad-authenticator');
  // Whoever holds the aggregators' MAC key can relabel or re-randomise a report and seal it again:
  // the aggregators' tag then verifies, the custodians' authenticators do not.
  const relabelled = encodeReport({ ...reportOf(v), slot: v.slot + 1 }, macKey, hmacSha256, custodianKeys(3));
  const bodyEnd = 26 + 10 + 512;
  const tail = wire.subarray(bodyEnd, wire.length - 32);
  const digest = hmacSha256(new TextEncoder().encode('meterveil/v2/report-digest'), relabelled.subarray(0, bodyEnd));
  const forged = new Uint8Array([...relabelled.subarray(0, bodyEnd), ...tail, ...hmacSha256(macKey, new Uint8Array([...digest, ...tail]))]);
  t.is(decodeReport(forged, macKey, hmacSha256).slot, v.slot + 1);
  refuses(t, () => openReportAsCustodian(forged, 1, k1, hmacSha256), 'bad-authenticator');
  for (let i = 0; i < 26 + 10 + 512; i += 7) {
    const bad = wire.slice();
    bad[i] ^= 1 << (i % 8);
    t.throws(() => openReportAsCustodian(bad, 1, k1, hmacSha256), { instanceOf: MeterveilError });
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

test('reports go under their group, acknowledgements to the meter', (t) => {
  t.is(reportTopic('g1', 'm1'), 'meterveil/v1/groups/g1/reports/m1');
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
  const wire = hexToBytes(vectors.reports[0].wire);
  // Seals bytes as a meter would: `end` is where the digest's part ends (the ciphertext's last byte).
  const seal = (bytes: Uint8Array, end = 26 + 10 + 512) => {
    const digest = hmacSha256(new TextEncoder().encode('meterveil/v2/report-digest'), bytes.subarray(0, end));
    return new Uint8Array([...bytes, ...hmacSha256(macKey, new Uint8Array([...digest, ...bytes.subarray(end)]))]);
  };
  const body = wire.subarray(0, wire.length - 32);
  refuses(t, () => decodeReport(wire.subarray(0, 100), macKey, hmacSha256), 'bad-mac');
  refuses(t, () => decodeReport(wire.subarray(0, 20), macKey, hmacSha256), 'truncated');
  refuses(t, () => decodeReport(new Uint8Array(5), macKey, hmacSha256), 'truncated');
  refuses(t, () => decodeReport(new Uint8Array(MAX_REPORT_BYTES + 1), macKey, hmacSha256), 'oversized');
  refuses(t, () => decodeReport(seal(body.subarray(0, body.length - 3)), macKey, hmacSha256), 'truncated');
  refuses(t, () => decodeReport(seal(new Uint8Array([...body, 0])), macKey, hmacSha256), 'trailing-bytes');
  // Version 1 reports carried no custodian authenticators.
  refuses(t, () => decodeReport(seal(new Uint8Array([1, ...body.subarray(1)])), macKey, hmacSha256), 'unsupported-version');
  const tooMany = body.slice();
  tooMany[body.length - 3 * 32 - 1] = 17;
  refuses(t, () => decodeReport(seal(tooMany), macKey, hmacSha256), 'out-of-range');
  refuses(t, () => decodeReport(seal(new Uint8Array([2, 2, ...body.subarray(2)])), macKey, hmacSha256), 'wrong-message-type');
  // An acknowledgement under the MAC key: its lengths do not frame a report, so no tag verifies.
  const ackUnderMacKey = encodeAck({ meterId: 'meter-0001', groupId: 'g'.repeat(20), slot: 1, seq: 1, status: 0 }, macKey, hmacSha256);
  refuses(t, () => decodeReport(ackUnderMacKey, macKey, hmacSha256), 'bad-mac');
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
        const back = decodeReport(encodeReport(report, macKey, hmacSha256, custodianKeys(2)), macKey, hmacSha256);
        return (
          JSON.stringify({ ...back, ciphertext: [...back.ciphertext] }) ===
          JSON.stringify({ ...report, ciphertext: [...report.ciphertext], authenticators: 2 })
        );
      },
    ),
  );
  t.pass();
});

test('ids are checked character by character exactly as the pattern 1-64 of A-Z a-z 0-9 . _ - says', (t) => {
  const pattern = /^[A-Za-z0-9._-]{1,64}$/;
  // Mostly near-valid ids: the id alphabet with a few of its neighbours, lengths around the bound.
  const unit = fc.oneof(fc.constantFrom(...'azAZ09._-'), fc.constantFrom(...'/+#@`[{:, \u00e9\u0000'));
  const text = fc.oneof(fc.string({ unit, maxLength: 70 }), fc.string({ maxLength: 70 }));
  fc.assert(fc.property(text, (s) => isValidId(s) === pattern.test(s)));
  // The reader, on a report header whose meter id is any bytes: accepted exactly when their characters match.
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 70 }),
    fc.string({ unit, maxLength: 70 }).map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 255)),
  );
  fc.assert(
    fc.property(bytes, (id) => {
      const header = Uint8Array.from([2, 1, ...new Uint8Array(8), id.length, ...id, ...new Uint8Array(40)]);
      const valid = pattern.test(String.fromCharCode(...id));
      try {
        return peekReportMeterId(header) === String.fromCharCode(...id) && valid;
      } catch (e) {
        return e instanceof MeterveilError && e.reason === 'malformed-id' && !valid;
      }
    }),
  );
  t.pass();
});
