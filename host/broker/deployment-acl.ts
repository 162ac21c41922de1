/** The broker's whole table for a config: the pipeline's roles, plus the custodians in threshold mode. */
import type { MeterveilConfig } from '../config/schema.ts';
import { addCustodianAcl } from './custodian-acl.ts';
import { buildAcl, type Acl } from './acl.ts';

export function deploymentAcl(config: MeterveilConfig): Acl {
  const d = config.provider.decryption;
  return d.mode === 'threshold'
    ? addCustodianAcl(
        buildAcl(config),
        d.custodians,
        config.groups.map((g) => g.id),
      )
    : buildAcl(config);
}
