/**
 * The meter health status codec (firmware/protocol/meter-status.ts, host/protocol/meter-status.ts):
 * one spelling, a tag under the meter's status key, counts only. What the meter builds from its
 * stats holds exactly these fields and nothing computed from a reading.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { MeterveilError } from '../../firmware/errors.ts';
import { meterStatusOf } from '../../firmware/meter/health.ts';
import type { MeterStats } from '../../firmware/meter/meter.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { deriveAckKey, deriveStatusKey } from '../../firmware/protocol/meter-keys.ts';
import {
  encodeMeterStatus,
  METER_STATUS_FIELDS,
  meterStatusBody,
  meterStatusTag,
  type MeterStatus,
} from '../../firmware/protocol/meter-status.ts';
import { FIRMWARE_VERSION } from '../../firmware/version.ts';
import { decodeMeterStatus } from '../../host/protocol/meter-status.ts';

const deviceKey = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const statusKey = deriveStatusKey(deviceKey, hmacSha256);
const keyOf = (id: string) => (id === 'meter-0001' ? statusKey : undefined);
const sample: MeterStatus = {
  meterId: 'meter-0001',
  firmware: '0.1.0',
  keyId: '0123456789abcdef',
  at: 1_790_000_000,
  uptime: 86_400,
  pool: 3,
  outbox: 2,
  dropped: 0,
  acksRejected: 1,
  storageFull: 0,
  sensorMisses: 4,
  freeMemory: null,
};
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);
const reason = (fn: () => unknown) => {
  try {
    fn();
    return 'none';
  } catch (e) {
    if (e instanceof MeterveilError) return e.reason;
    throw e;
  }
};
/** A status with some fields changed and a correct tag: only the meter's key can make one. */
const signed = (fields: Record<string, unknown>, key = statusKey) => {
  const s = { ...sample, ...fields } as MeterStatus;
  const body = meterStatusBody(s);
  return bytes(`${body},"mac":"${meterStatusTag(body, key, hmacSha256)}"}`);
};

test('a status survives encoding and decoding, with exactly its fields, well under 300 bytes', (t) => {
  const payload = encodeMeterStatus(sample, statusKey, hmacSha256);
  t.deepEqual(decodeMeterStatus(payload, keyOf, hmacSha256), sample);
  t.deepEqual(Object.keys(JSON.parse(text(payload))), [...METER_STATUS_FIELDS]);
  t.true(payload.length < 260, `${payload.length} bytes`);
  const withMemory = encodeMeterStatus(
    { ...sample, meterId: 'm'.repeat(20), freeMemory: 41_234, uptime: 31_536_000 },
    statusKey,
    hmacSha256,
  );
  t.true(withMemory.length < 280, `${withMemory.length} bytes with a 20-character id and free memory`);
});

test('a status tagged under any other key is refused as bad-mac, and one for a meter without a key as unknown-meter', (t) => {
  t.is(
    reason(() => decodeMeterStatus(signed({}, deriveAckKey(deviceKey, 'street', hmacSha256)), keyOf, hmacSha256)),
    'bad-mac',
  );
  t.is(
    reason(() => decodeMeterStatus(signed({}, new Uint8Array(32)), keyOf, hmacSha256)),
    'bad-mac',
  );
  // A real status with one count changed: the tag no longer matches.
  const payload = text(encodeMeterStatus(sample, statusKey, hmacSha256)).replace('"outbox":2', '"outbox":0');
  t.is(
    reason(() => decodeMeterStatus(bytes(payload), keyOf, hmacSha256)),
    'bad-mac',
  );
  t.is(
    reason(() => decodeMeterStatus(signed({ meterId: 'meter-0002' }), keyOf, hmacSha256)),
    'unknown-meter',
  );
});

test('malformed statuses are refused by name before any tag is checked', (t) => {
  const good = text(encodeMeterStatus(sample, statusKey, hmacSha256));
  const cases: [string, string][] = [
    ['not json', 'malformed'],
    ['[1]', 'malformed'],
    [good.replace('{"v":1,', '{"v":1, '), 'malformed'],
    [good.replace('"pool":3,"outbox":2', '"outbox":2,"pool":3'), 'malformed'],
    [good.replace('"pool":3', '"pool":3.0'), 'malformed'],
    [good.replace('"pool":3', '"pool":-3'), 'malformed'],
    [good.replace('"pool":3', '"pool":"3"'), 'malformed'],
    [good.replace('"sensorMisses":4', '"sensorMisses":4,"energy":120'), 'malformed'],
    [good.replace('"dropped":0,', ''), 'malformed'],
    [good.replace('"v":1', '"v":2'), 'unsupported-version'],
    [good.replace('"meterId":"meter-0001"', '"meterId":"meter 1"'), 'malformed-id'],
    [good.replace('"keyId":"0123456789abcdef"', '"keyId":"xyz"'), 'malformed'],
    [good.replace(/"mac":"[0-9a-f]+"/, '"mac":"00"'), 'malformed'],
    [good.replace('"firmware":"0.1.0"', '"firmware":"0.1.0\\u0000"'), 'malformed'],
    [`${good.slice(0, -1)},"pad":"${'x'.repeat(600)}"}`, 'oversized'],
  ];
  for (const [payload, expected] of cases)
    t.is(
      reason(() => decodeMeterStatus(bytes(payload), keyOf, hmacSha256)),
      expected,
      payload,
    );
  t.is(
    reason(() => decodeMeterStatus(signed({ pool: 2 ** 53 }), keyOf, hmacSha256)),
    'malformed',
  );
  t.is(
    reason(() => encodeMeterStatus({ ...sample, uptime: -1 }, statusKey, hmacSha256)),
    'malformed',
    'the meter cannot build one either',
  );
});

test('the status the meter builds from its stats holds counts, its key and firmware only: no reading, power or slot total', (t) => {
  const stats = {
    samples: 86_400,
    sensorMisses: 2,
    clampedSamples: 1,
    reportsCreated: 1440,
    slotsAlreadyReported: 0,
    slotsStartedMidSlot: 1,
    publishes: 1500,
    reportsAcknowledged: 1438,
    acksRefused: 0,
    acksRejected: { 'bad-mac': 2, 'not-in-outbox': 3 },
    storageFull: 0,
    poolDry: 0,
    poolRefills: 1440,
    awaitingRandomness: 0,
    combTableKeyId: null,
    combTablesBuilt: 0,
    poolSize: 4,
    nextPoolSize: 0,
    keyId: '0123456789abcdef',
    nextKeyId: null,
    nextKeySlot: null,
    announcementsAccepted: 0,
    announcementsRepeated: 0,
    announcementsRefused: {},
    connects: 1,
    disconnects: 0,
    connected: true,
    outboxSize: 2,
    outboxDropped: 0,
  } satisfies MeterStats;
  const status = meterStatusOf('meter-0001', stats, 1_790_000_000_500, 1_789_913_600_000, undefined);
  t.deepEqual(status, { ...sample, acksRejected: 5, sensorMisses: 2, pool: 4, uptime: 86_400, firmware: FIRMWARE_VERSION });
  t.deepEqual(
    Object.keys(status),
    METER_STATUS_FIELDS.filter((f) => f !== 'v' && f !== 'mac'),
  );
  t.is(meterStatusOf('meter-0001', stats, 0, 0, 30_000.5).freeMemory, null, 'a platform figure that is not a byte count is left out');
});

test('the firmware version is the release package.json names', (t) => {
  t.is(FIRMWARE_VERSION, JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
});
