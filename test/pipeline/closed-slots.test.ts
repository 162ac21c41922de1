/**
 * A slot closes once, restarts included: the aggregator records how far its clock has closed slots
 * (closedThrough, in its SQLite file), so a report for a slot that closed without any report is
 * refused `slot-closed` after a restart too, instead of opening a second product for it; a report
 * past the acceptance horizon (outageSeconds) is refused `slot-too-old`. Both are acknowledged
 * `refused` under the meter's acknowledgement key, so the meter lets the report go.
 */
import test from 'ava';
import { AckStatus } from '../../firmware/protocol/report.ts';
import { aggregatorStorePath, runAggregator } from '../../host/aggregator/run.ts';
import { AggregatorStore } from '../../host/aggregator/store.ts';
import { slotAt, watermarkMs } from '../../host/protocol/slots.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

test('a slot closed empty stays closed across a restart; a report past the outage bound is too old', async (t) => {
  const members = ids('m', 3);
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }],
    extra: { slotSeconds: 2, latenessSeconds: 1, outageSeconds: 30 },
  });
  t.teardown(() => d.cleanup());
  const { config } = d;
  let aggregator = await runAggregator(config, 'street');
  t.teardown(() => aggregator.stop());
  const meter = await d.meter('m1', ['street'], { resendMs: 60_000 });

  // Slot s passes its watermark with no report at all: no product, nothing in the slots table.
  const s = slotAt(Date.now(), config.slotSeconds);
  await until(() => Date.now() > watermarkMs(s, config) + 1500, 'slot s past its watermark', 10_000);
  await aggregator.stop();
  const file = new AggregatorStore(aggregatorStorePath(config, 'street'), { groupId: 'street' });
  t.true(file.closedThrough() >= s, 'closedThrough is in the file');
  t.is(file.slotState(s, d.publicKey.keyId), undefined, 'no row for the empty slot');
  file.close();

  aggregator = await runAggregator(config, 'street');
  await meter.report(s, [5n]);
  t.like(meter.acks.at(-1), { slot: s, status: AckStatus.refused });
  t.is(aggregator.aggregator.rejections.toJSON()['slot-closed'], 1);
  t.deepEqual(aggregator.aggregator.status().openSlots, [], 'no product opened for it');

  // A slot that ended longer ago than the outage bound (40 s, the bound is 30 s).
  const old = slotAt(Date.now() - 40_000, config.slotSeconds);
  await meter.report(old, [5n]);
  t.like(meter.acks.at(-1), { slot: old, status: AckStatus.refused });
  t.is(aggregator.aggregator.rejections.toJSON()['slot-too-old'], 1);
});
