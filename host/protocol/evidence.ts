/**
 * The contributing reports of an aggregate, which its aggregator publishes in threshold mode on
 * meterveil/v1/groups/{groupId}/evidence before the aggregate itself. JSON:
 *   {"v":1,"type":"aggregate-evidence","aggregate":{...the aggregate message...},"reports":["<hex of a report>",...]}
 * The reports are the meters' messages as they arrived (docs/wire-format.md), one per contributor.
 * Only the group's aggregator may publish on the topic and only the custodians may read it
 * (host/broker/custodian-acl.ts): the provider, which decrypts, never receives an individual
 * report. Each custodian checks its own authenticator in every report and recomputes the product
 * (host/custodian/evidence.ts).
 */
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { MAX_REPORT_BYTES } from '../../firmware/protocol/report.ts';
import { decodeAggregate, encodeAggregate, MAX_CONTRIBUTORS, type Aggregate } from './aggregate.ts';
import { encodeJsonMessage, exactKeys, parseJsonMessage } from './json-message.ts';

/**
 * One MQTT message on the embedded broker (host/broker/embedded.ts): about 700 contributors with
 * a 2048-bit key and three custodians. Larger aggregates would need their evidence in parts.
 */
export const MAX_EVIDENCE_BYTES = 1024 * 1024;

export interface AggregateEvidence {
  aggregate: Aggregate;
  reports: Uint8Array[];
}

const decoder = new TextDecoder();

export function encodeEvidence(e: AggregateEvidence): Uint8Array {
  const bytes = encodeJsonMessage({
    v: 1,
    type: 'aggregate-evidence',
    aggregate: JSON.parse(decoder.decode(encodeAggregate(e.aggregate))),
    reports: e.reports.map(bytesToHex),
  });
  if (bytes.length > MAX_EVIDENCE_BYTES)
    fail('evidence-oversized', `${e.reports.length} reports make ${bytes.length} bytes, the limit is ${MAX_EVIDENCE_BYTES}`);
  return bytes;
}

export function decodeEvidence(bytes: Uint8Array): AggregateEvidence {
  const o = parseJsonMessage(bytes, MAX_EVIDENCE_BYTES, 'aggregate evidence');
  exactKeys(o, ['v', 'type', 'aggregate', 'reports'], 'aggregate evidence');
  if (o.v !== 1) fail('unsupported-version', 'aggregate evidence: version must be 1');
  if (o.type !== 'aggregate-evidence') fail('wrong-message-type', 'aggregate evidence: type must be "aggregate-evidence"');
  if (o.aggregate === null || typeof o.aggregate !== 'object')
    fail('malformed', 'aggregate evidence: aggregate must be an aggregate message');
  const aggregate = decodeAggregate(encodeJsonMessage(o.aggregate));
  const list = o.reports;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_CONTRIBUTORS)
    fail('malformed', `aggregate evidence: reports must be 1..${MAX_CONTRIBUTORS} reports`);
  const reports = list.map((hex) => {
    if (typeof hex !== 'string' || hex.length > 2 * MAX_REPORT_BYTES) fail('malformed', 'aggregate evidence: each report must be hex');
    return hexToBytes(hex, 'evidence report');
  });
  return { aggregate, reports };
}
