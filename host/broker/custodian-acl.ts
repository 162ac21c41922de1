/**
 * Broker permissions for threshold mode, added to the table of host/broker/acl.ts: the custodians
 * read the decryption requests and each group's evidence (its aggregates' contributing reports,
 * which each group's aggregator publishes and the provider may not read), and answer on their own
 * topics.
 */
import type { Acl } from './acl.ts';
import { aggregatorUser, custodianUser, PROVIDER_USER } from '../config/identities.ts';
import { EVIDENCE_TOPIC_FILTER, evidenceTopic } from '../protocol/topics.ts';
import { CUSTODIAN_PARTIAL_FILTER, custodianPartialTopic, DECRYPTION_REQUEST_TOPIC } from '../decryption/topics.ts';

export function addCustodianAcl(acl: Acl, custodians: number, groupIds: readonly string[]): Acl {
  const entry = (user: string) => {
    if (!acl.has(user)) acl.set(user, { publish: new Set(), subscribe: new Set() });
    return acl.get(user)!;
  };
  for (let index = 1; index <= custodians; index++) {
    const c = entry(custodianUser(index));
    c.subscribe.add(EVIDENCE_TOPIC_FILTER);
    c.subscribe.add(DECRYPTION_REQUEST_TOPIC);
    c.publish.add(custodianPartialTopic(index));
  }
  for (const groupId of groupIds) entry(aggregatorUser(groupId)).publish.add(evidenceTopic(groupId));
  const provider = entry(PROVIDER_USER);
  provider.publish.add(DECRYPTION_REQUEST_TOPIC);
  provider.subscribe.add(CUSTODIAN_PARTIAL_FILTER);
  return acl;
}
