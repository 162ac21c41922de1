/**
 * The encrypted aggregate an aggregator publishes when it closes a slot, on
 * meterveil/v1/groups/{groupId}/aggregates. JSON:
 *   {"v":1,"type":"aggregate","groupId","slot","keyId","packed","count","contributors":[sorted ids],"ciphertext":"<hex>"}
 * It is authenticated by the broker (only that group's aggregator may publish on the topic);
 * the provider also checks that the topic and the groupId agree.
 */
import { createHash } from 'node:crypto';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { isValidId } from '../../firmware/protocol/report.ts';
import { encodeJsonMessage, exactKeys, parseJsonMessage, u32Field } from './json-message.ts';

/** 10,000 contributors of 64-character ids plus an 8192-bit ciphertext fit. */
export const MAX_AGGREGATE_BYTES = 800_000;
export const MAX_CONTRIBUTORS = 10_000;

export interface Aggregate {
  groupId: string;
  slot: number;
  keyId: string;
  packed: number;
  count: number;
  contributors: string[];
  ciphertext: Uint8Array;
}

const FIELDS = ['v', 'type', 'groupId', 'slot', 'keyId', 'packed', 'count', 'contributors', 'ciphertext'];

function checkContributors(list: unknown): string[] {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CONTRIBUTORS) {
    fail('malformed', `aggregate: contributors must be 1..${MAX_CONTRIBUTORS} meter ids`);
  }
  for (let i = 0; i < list.length; i++) {
    if (!isValidId(list[i])) fail('malformed', 'aggregate: contributor ids must be valid meter ids');
    if (i > 0 && !(list[i - 1] < list[i])) fail('malformed', 'aggregate: contributors must be sorted and distinct');
  }
  return list as string[];
}

export function encodeAggregate(a: Aggregate): Uint8Array {
  const contributors = checkContributors(a.contributors);
  if (a.count !== contributors.length) fail('malformed', 'aggregate: count must equal the number of contributors');
  return encodeJsonMessage({
    v: 1,
    type: 'aggregate',
    groupId: a.groupId,
    slot: a.slot,
    keyId: a.keyId,
    packed: a.packed,
    count: a.count,
    contributors,
    ciphertext: bytesToHex(a.ciphertext),
  });
}

export function decodeAggregate(bytes: Uint8Array): Aggregate {
  const o = parseJsonMessage(bytes, MAX_AGGREGATE_BYTES, 'aggregate');
  exactKeys(o, FIELDS, 'aggregate');
  if (o.v !== 1) fail('unsupported-version', 'aggregate: version must be 1');
  if (o.type !== 'aggregate') fail('wrong-message-type', 'aggregate: type must be "aggregate"');
  if (!isValidId(o.groupId)) fail('malformed', 'aggregate: groupId must be a valid id');
  if (typeof o.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(o.keyId))
    fail('malformed', 'aggregate: keyId must be 16 lowercase hex characters');
  if (!Number.isInteger(o.packed) || (o.packed as number) < 1 || (o.packed as number) > 255)
    fail('malformed', 'aggregate: packed must be 1..255');
  const contributors = checkContributors(o.contributors);
  if (o.count !== contributors.length) fail('malformed', 'aggregate: count must equal the number of contributors');
  if (typeof o.ciphertext !== 'string' || o.ciphertext.length === 0) fail('malformed', 'aggregate: ciphertext must be hex');
  return {
    groupId: o.groupId,
    slot: u32Field(o.slot, 'aggregate: slot'),
    keyId: o.keyId,
    packed: o.packed as number,
    count: contributors.length,
    contributors,
    ciphertext: hexToBytes(o.ciphertext, 'aggregate ciphertext'),
  };
}

/** Identifies an aggregate's content: a republication has the same hash. */
export function aggregateHash(a: Aggregate): string {
  return createHash('sha256')
    .update(`${a.groupId}|${a.slot}|${a.keyId}|${a.packed}|${a.contributors.join(',')}|${bytesToHex(a.ciphertext)}`)
    .digest('hex');
}
