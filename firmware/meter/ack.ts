/**
 * An acknowledgement as a meter's loop takes it (the Paillier meter, meter.ts, and the masked one,
 * firmware/masked/meter.ts): on the meter's own topic, from a group it is in, under that group's
 * key, for this meter and for a report its outbox still holds; anything else is a named refusal the
 * loop counts. A group's `refused` status still ends that group's wait: sending the report again
 * would be refused again.
 */
import { MeterveilError, type Reason } from '../errors.ts';
import type { Mac } from '../protocol/mac.ts';
import { ackTopic, decodeAck, peekAckGroupId, type Ack } from '../protocol/report.ts';
import type { Outbox, OutboxEntry } from './outbox.ts';

export type AckReading = { ack: Ack; entry: OutboxEntry } | { refused: Reason };

export function readAck(
  topic: string,
  payload: Uint8Array,
  meterId: string,
  ackKeyOf: (groupId: string) => Uint8Array | undefined,
  mac: Mac,
  outbox: Outbox,
): AckReading {
  if (topic !== ackTopic(meterId)) return { refused: 'unexpected-topic' };
  let ack: Ack;
  try {
    const ackKey = ackKeyOf(peekAckGroupId(payload));
    if (!ackKey) return { refused: 'unknown-group' };
    ack = decodeAck(payload, ackKey, mac);
  } catch (error) {
    return { refused: error instanceof MeterveilError ? error.reason : 'malformed' };
  }
  if (ack.meterId !== meterId) return { refused: 'wrong-meter' };
  const entry = outbox.find(ack.slot, ack.seq);
  return entry ? { ack, entry } : { refused: 'not-in-outbox' };
}
