/**
 * Messages between the provider and the custodians (JSON):
 *   request  {"v":1,"type":"decryption-request","requestId","aggregate":{...the aggregator's message...}}
 *   response {"v":1,"type":"decryption-response","requestId","index","groupId","slot",
 *             "status":"partial","partial":{...}} or {..., "status":"refused","reason","detail"}
 *             or, masked deployments, {..., "status":"mask-sum","maskSum":"<hex>"}: the sum of this
 *             custodian's masks for the aggregate's contributors (host/scheme/unmask.ts)
 */
import { fail } from '../../firmware/errors.ts';
import { isValidId } from '../../firmware/protocol/report.ts';
import { decodeAggregate, encodeAggregate, MAX_AGGREGATE_BYTES, type Aggregate } from '../protocol/aggregate.ts';
import { encodeJsonMessage, exactKeys, parseJsonMessage, u32Field } from '../protocol/json-message.ts';
import type { PartialDecryptionJson } from '../threshold/codec.ts';

const MAX_RESPONSE_BYTES = 64 * 1024;

export interface DecryptionRequest {
  requestId: string;
  aggregate: Aggregate;
}

export type CustodianResponse = {
  requestId: string;
  index: number;
  groupId: string;
  slot: number;
} & (
  | { status: 'partial'; partial: PartialDecryptionJson }
  | { status: 'mask-sum'; maskSum: string }
  | { status: 'refused'; reason: string; detail: string }
);

const decoder = new TextDecoder();

export function encodeRequest(r: DecryptionRequest): Uint8Array {
  return encodeJsonMessage({
    v: 1,
    type: 'decryption-request',
    requestId: r.requestId,
    aggregate: JSON.parse(decoder.decode(encodeAggregate(r.aggregate))),
  });
}

export function decodeRequest(bytes: Uint8Array): DecryptionRequest {
  const o = parseJsonMessage(bytes, MAX_AGGREGATE_BYTES + 256, 'decryption request');
  exactKeys(o, ['v', 'type', 'requestId', 'aggregate'], 'decryption request');
  if (o.v !== 1 || o.type !== 'decryption-request') fail('wrong-message-type', 'not a version 1 decryption request');
  if (!isValidId(o.requestId)) fail('malformed', 'decryption request: requestId must be a valid id');
  return { requestId: o.requestId as string, aggregate: decodeAggregate(encodeJsonMessage(o.aggregate as object)) };
}

export function encodeResponse(r: CustodianResponse): Uint8Array {
  return encodeJsonMessage({ v: 1, type: 'decryption-response', ...r });
}

export function decodeResponse(bytes: Uint8Array): CustodianResponse {
  const o = parseJsonMessage(bytes, MAX_RESPONSE_BYTES, 'decryption response');
  const common = ['v', 'type', 'requestId', 'index', 'groupId', 'slot', 'status'];
  const body = o.status === 'partial' ? ['partial'] : o.status === 'mask-sum' ? ['maskSum'] : ['reason', 'detail'];
  exactKeys(o, [...common, ...body], 'decryption response');
  if (o.v !== 1 || o.type !== 'decryption-response') fail('wrong-message-type', 'not a version 1 decryption response');
  if (!isValidId(o.requestId) || !isValidId(o.groupId)) fail('malformed', 'decryption response: requestId and groupId must be valid ids');
  const head = {
    requestId: o.requestId as string,
    index: u32Field(o.index, 'index'),
    groupId: o.groupId as string,
    slot: u32Field(o.slot, 'slot'),
  };
  if (o.status === 'partial') return { ...head, status: 'partial', partial: o.partial as PartialDecryptionJson };
  if (o.status === 'mask-sum') {
    if (typeof o.maskSum !== 'string' || !/^[0-9a-f]{1,1024}$/.test(o.maskSum))
      fail('malformed', 'decryption response: maskSum must be lowercase hex of at most 1024 digits');
    return { ...head, status: 'mask-sum', maskSum: o.maskSum };
  }
  if (o.status !== 'refused' || typeof o.reason !== 'string' || typeof o.detail !== 'string')
    fail('malformed', 'decryption response: status must be partial, mask-sum or refused');
  return { ...head, status: 'refused', reason: o.reason as string, detail: o.detail as string };
}
