/** Broker permissions for threshold mode, added to the table of host/broker/acl.ts. */
import type { Acl } from './acl.ts';
import { custodianUser, PROVIDER_USER } from '../config/identities.ts';
import { AGGREGATE_TOPIC_FILTER } from '../protocol/topics.ts';
import { CUSTODIAN_PARTIAL_FILTER, custodianPartialTopic, DECRYPTION_REQUEST_TOPIC } from '../decryption/topics.ts';

export function addCustodianAcl(acl: Acl, custodians: number): Acl {
  const entry = (user: string) => {
    if (!acl.has(user)) acl.set(user, { publish: new Set(), subscribe: new Set() });
    return acl.get(user)!;
  };
  for (let index = 1; index <= custodians; index++) {
    const c = entry(custodianUser(index));
    c.subscribe.add(AGGREGATE_TOPIC_FILTER);
    c.subscribe.add(DECRYPTION_REQUEST_TOPIC);
    c.publish.add(custodianPartialTopic(index));
  }
  const provider = entry(PROVIDER_USER);
  provider.publish.add(DECRYPTION_REQUEST_TOPIC);
  provider.subscribe.add(CUSTODIAN_PARTIAL_FILTER);
  return acl;
}
