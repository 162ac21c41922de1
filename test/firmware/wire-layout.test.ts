/** The byte layout docs/wire-format.md documents, checked against the codec; and the simulation's MAC. */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { keyedHmacSha256 } from '../../firmware/platform/keyed-hmac.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { AckStatus, encodeAck, encodeReport } from '../../firmware/protocol/report.ts';

const key = new Uint8Array(randomBytes(32));
const custodianKeys = [1, 2, 3].map(() => new Uint8Array(randomBytes(32)));

test('a report is laid out as docs/wire-format.md says', (t) => {
  const ciphertext = new Uint8Array(randomBytes(512));
  ciphertext[0] = 0;
  const message = encodeReport(
    { keyId: '3fa90011223344ff', meterId: 'm-1', slot: 29_600_000, seq: 17, dropped: 4, packed: 15, ciphertext },
    key,
    hmacSha256,
    custodianKeys,
  );
  const L = 3;
  const C = 512;
  const A = 3;
  t.is(message.length, 59 + L + C + 32 * A);
  t.deepEqual([...message.subarray(0, 2)], [2, 1]);
  t.deepEqual([...message.subarray(2, 10)], [0x3f, 0xa9, 0x00, 0x11, 0x22, 0x33, 0x44, 0xff]);
  t.deepEqual([...message.subarray(10, 11 + L)], [3, 0x6d, 0x2d, 0x31]);
  t.deepEqual([...message.subarray(11 + L, 15 + L)], [0x01, 0xc3, 0xa9, 0x00]);
  t.deepEqual([...message.subarray(15 + L, 19 + L)], [0, 0, 0, 17]);
  t.deepEqual([...message.subarray(19 + L, 23 + L)], [0, 0, 0, 4]);
  t.is(message[23 + L], 15);
  t.deepEqual([...message.subarray(24 + L, 26 + L)], [0x02, 0x00]);
  t.deepEqual([...message.subarray(26 + L, 26 + L + C)], [...ciphertext]);
  t.is(message[26 + L + C], A);
  const digest = hmacSha256(new TextEncoder().encode('meterveil/v2/report-digest'), message.subarray(0, 26 + L + C));
  custodianKeys.forEach((custodianKey, i) => {
    const at = 27 + L + C + 32 * i;
    t.deepEqual([...message.subarray(at, at + 32)], [...hmacSha256(custodianKey, digest)]);
  });
  const tagAt = 27 + L + C + 32 * A;
  t.deepEqual([...message.subarray(tagAt)], [...hmacSha256(key, new Uint8Array([...digest, ...message.subarray(26 + L + C, tagAt)]))]);
});

test('an acknowledgement is laid out as docs/wire-format.md says', (t) => {
  const message = encodeAck(
    { meterId: 'm-1', groupId: 'feeder-a', slot: 29_600_000, seq: 17, status: AckStatus.duplicate },
    key,
    hmacSha256,
  );
  const L = 3;
  const G = 8;
  t.is(message.length, 45 + L + G);
  t.deepEqual([...message.subarray(0, 3)], [1, 2, L]);
  t.is(message[3 + L], G);
  t.deepEqual([...message.subarray(4 + L + G, 8 + L + G)], [0x01, 0xc3, 0xa9, 0x00]);
  t.deepEqual([...message.subarray(8 + L + G, 12 + L + G)], [0, 0, 0, 17]);
  t.is(message[12 + L + G], 1);
  t.deepEqual([...message.subarray(13 + L + G)], [...hmacSha256(key, message.subarray(0, 13 + L + G))]);
});

test("the simulation's keyed HMAC equals HMAC-SHA256 for every key and message length", (t) => {
  const mac = keyedHmacSha256();
  for (let i = 0; i < 100; i++) {
    const macKey = new Uint8Array(randomBytes(16 + (i % 70)));
    for (const length of [0, 55, 64, 600]) {
      const message = new Uint8Array(randomBytes(length));
      t.deepEqual([...mac(macKey, message)], [...hmacSha256(macKey, message)]);
    }
  }
});
