/**
 * The broker's whole table for a config: the pipeline's roles, plus the custodians in threshold
 * mode, plus each aggregator host (config `aggregators`) with what its groups' aggregators may do
 * and nothing more: moving a group to another host moves its permissions with it.
 */
import { aggregatorHostUser, aggregatorUser } from '../config/identities.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { addCustodianAcl } from './custodian-acl.ts';
import { buildAcl, type Acl } from './acl.ts';

export function deploymentAcl(config: MeterveilConfig): Acl {
  const d = config.provider.decryption;
  const acl =
    d.mode === 'threshold'
      ? addCustodianAcl(
          buildAcl(config),
          d.custodians,
          config.groups.map((g) => g.id),
        )
      : buildAcl(config);
  return addAggregatorHosts(acl, config);
}

export function addAggregatorHosts(acl: Acl, config: MeterveilConfig): Acl {
  for (const host of config.aggregators) {
    const permissions = { publish: new Set<string>(), subscribe: new Set<string>() };
    for (const groupId of host.groups) {
      const group = acl.get(aggregatorUser(groupId))!;
      for (const t of group.publish) permissions.publish.add(t);
      for (const t of group.subscribe) permissions.subscribe.add(t);
    }
    acl.set(aggregatorHostUser(host.name), permissions);
  }
  return acl;
}
