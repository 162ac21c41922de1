/**
 * MQTT topics of threshold decryption. The provider publishes requests on one topic that every
 * custodian reads; custodian i answers on its own topic, which only it may publish on, so the
 * topic authenticates the answer's sender. Custodians also read the aggregators' aggregate topics:
 * they help decrypt only a ciphertext an aggregator itself published.
 */
import { topicSegment } from '../protocol/topics.ts';

export const DECRYPTION_REQUEST_TOPIC = 'meterveil/v1/custodians/requests';
export const CUSTODIAN_PARTIAL_FILTER = 'meterveil/v1/custodians/+/partials';

export function custodianPartialTopic(index: number): string {
  return `meterveil/v1/custodians/${index}/partials`;
}

export function custodianOfPartialTopic(topic: string): number | undefined {
  const segment = topicSegment(topic, 'meterveil/v1/custodians/', '/partials');
  return segment !== undefined && /^[1-9][0-9]?$/.test(segment) ? Number(segment) : undefined;
}
