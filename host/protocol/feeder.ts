/**
 * A feeder meter's reading for one slot, on meterveil/v1/feeders/{feederId}/readings. The feeder
 * is the utility's own meter on the group's supply line, so its reading is not private. JSON:
 *   {"v":1,"type":"feeder-reading","feederId","slot","total":"<decimal>"}
 * total is the energy through the feeder during the slot, in the meters' reading unit, as a
 * decimal string (it may exceed 2^53).
 */
import { fail } from '../../firmware/errors.ts';
import { isValidId } from '../../firmware/protocol/report.ts';
import { encodeJsonMessage, exactKeys, parseJsonMessage, u32Field } from './json-message.ts';

export const MAX_FEEDER_BYTES = 512;

export interface FeederReading {
  feederId: string;
  slot: number;
  total: bigint;
}

export function encodeFeederReading(r: FeederReading): Uint8Array {
  if (!isValidId(r.feederId)) fail('malformed', 'feeder id must be a valid id');
  if (r.total < 0n) fail('malformed', 'feeder total must not be negative');
  return encodeJsonMessage({
    v: 1,
    type: 'feeder-reading',
    feederId: r.feederId,
    slot: u32Field(r.slot, 'slot'),
    total: r.total.toString(),
  });
}

export function decodeFeederReading(bytes: Uint8Array): FeederReading {
  const o = parseJsonMessage(bytes, MAX_FEEDER_BYTES, 'feeder reading');
  exactKeys(o, ['v', 'type', 'feederId', 'slot', 'total'], 'feeder reading');
  if (o.v !== 1) fail('unsupported-version', 'feeder reading: version must be 1');
  if (o.type !== 'feeder-reading') fail('wrong-message-type', 'feeder reading: type must be "feeder-reading"');
  if (!isValidId(o.feederId)) fail('malformed', 'feeder reading: feederId must be a valid id');
  if (typeof o.total !== 'string' || !/^(0|[1-9][0-9]{0,39})$/.test(o.total))
    fail('malformed', 'feeder reading: total must be a decimal string');
  return { feederId: o.feederId, slot: u32Field(o.slot, 'feeder reading: slot'), total: BigInt(o.total) };
}
