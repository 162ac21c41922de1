/** The schemes a deployment's aggregators accept reports under, from its config. */
import { maskedPackingFor, maskedParamsOf, type MaskedParams } from '../../firmware/masked/params.ts';
import { readAcceptedPublicKeys } from '../config/key-ring.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { maskedScheme, paillierScheme, type AggregationScheme } from './aggregation.ts';

export function maskedParamsOfConfig(config: MeterveilConfig): MaskedParams {
  return maskedParamsOf(maskedPackingFor(config.slotSeconds, config.packing));
}

/** Masked: one scheme per mask key id; Paillier: one per key of keys.publicKeys (read from its file). */
export function acceptedSchemes(config: MeterveilConfig): AggregationScheme[] {
  const { scheme } = config;
  if (scheme.name === 'masked') {
    const params = maskedParamsOfConfig(config);
    return scheme.keyIds.map((keyId) => maskedScheme(keyId, params));
  }
  return readAcceptedPublicKeys(config).map(paillierScheme);
}
