/**
 * A report sealed over loop turns (firmware/meter/seal-job.ts), for a platform whose MAC is portable:
 * the bytes it stores are the ones sealing at once would make (aggregators' tag and each custodian's
 * authenticator verify), one bounded part a turn; and when the outbox changed between numbering and
 * storing (an acknowledgement freed the room a drop would have made), the report carries the numbers
 * it was stored with.
 */
import test from 'ava';
import { validateConfig } from '../../firmware/config/schema.ts';
import { packingFor } from '../../firmware/meter/meter.ts';
import { Outbox } from '../../firmware/meter/outbox.ts';
import { MAC_STEP_BYTES, SealJob } from '../../firmware/meter/seal-job.ts';
import { sealSlotReport, type SealContext } from '../../firmware/meter/seal.ts';
import { keyedHmacSha256Stream } from '../../firmware/platform/keyed-hmac.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { decodeReport, openReportAsCustodian } from '../../firmware/protocol/report.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { rawMeterConfig } from './helpers/config.ts';

const { publicKey } = testKeyPair();
const rn = publicKey.precomputeRn((n) => new Uint8Array(n).fill(7));

function context(
  capacity: number,
  custodians: number,
  config = validateConfig(rawMeterConfig(publicKey, 'mqtt://127.0.0.1:1883', { custodians })),
): SealContext {
  const custodianKeys = Array.from({ length: custodians }, (_, i) => new Uint8Array(32).fill(i + 1));
  return {
    config,
    publicKey,
    packing: packingFor(config),
    mac: hmacSha256,
    custodianKeys,
    outbox: new Outbox(new MemoryStorage(), capacity),
  };
}

function runJob(ctx: SealContext, slot: number, beforeStore?: () => void): { job: SealJob; turns: number } {
  const job = new SealJob(ctx, { slot, readings: [1234] }, rn, keyedHmacSha256Stream());
  let turns = 0;
  while (!job.done) {
    // After the first turn, which numbered the report.
    if (beforeStore && turns === 1) beforeStore();
    job.step();
    turns++;
  }
  return { job, turns };
}

test('a report sealed a part a turn is the report sealed at once, and each custodian can open it', (t) => {
  const stepped = context(4, 3);
  const { job, turns } = runJob(stepped, 100);
  const message = stepped.outbox.message(job.entry!)!;
  const bodyTurns = Math.ceil((message.length - 1 - 3 * 32 - 32) / MAC_STEP_BYTES);
  t.is(turns, 1 + bodyTurns + 3 + 1, 'numbering, the body a part a turn, one turn a custodian, the store');
  const atOnce = context(4, 3, stepped.config);
  const entry = sealSlotReport(atOnce, { slot: 100, readings: [1234] }, rn)!;
  t.deepEqual([...message], [...atOnce.outbox.message(entry)!], 'the same bytes');
  const report = decodeReport(message, stepped.config.macKey, hmacSha256);
  t.like(report, { slot: 100, seq: 0, dropped: 0, authenticators: 3 });
  for (let i = 1; i <= 3; i++) t.is(openReportAsCustodian(message, i, stepped.custodianKeys[i - 1], hmacSha256).slot, 100);
});

test('numbers that changed before the store: the report carries the ones it was stored with', (t) => {
  const ctx = context(2, 0);
  for (const slot of [1, 2]) runJob(ctx, slot);
  t.is(ctx.outbox.nextNumbers().dropped, 1, 'a full outbox would drop its oldest for the next report');
  const { job } = runJob(ctx, 3, () => ctx.outbox.remove(ctx.outbox.entries()[0]));
  const report = decodeReport(ctx.outbox.message(job.entry!)!, ctx.config.macKey, hmacSha256);
  t.like(report, { slot: 3, seq: 2, dropped: 0 }, 'the acknowledgement made room: nothing was dropped');
  t.deepEqual(
    ctx.outbox.entries().map((e) => e.slot),
    [2, 3],
  );
});
