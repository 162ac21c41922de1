/**
 * Where the device finds its configuration (the JSON object of firmware/config/schema.ts), in the
 * two forms provisioning writes (host/provision/device-forms.ts): the preference
 * "meterveil"/"config" (a JSON string, written at provisioning time; it wins), else the build-time
 * `mcconfig ... meterveilConfig=<base64 of the JSON>`.
 */
import Base64 from 'base64';
import config from 'mc/config';
import Preference from 'preference';
import { fail } from '../../errors.ts';

export const CONFIG_DOMAIN = 'meterveil';
export const CONFIG_KEY = 'config';

function parse(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fail('invalid-config', `config: ${where} is not valid JSON`);
  }
}

export function loadRawConfig(): unknown {
  const stored = Preference.get(CONFIG_DOMAIN, CONFIG_KEY);
  if (typeof stored === 'string' && stored.length > 0) return parse(stored, `preference ${CONFIG_DOMAIN}/${CONFIG_KEY}`);
  const built = config.meterveilConfig;
  if (typeof built === 'string' && built.length > 0)
    return parse(String.fromArrayBuffer(Base64.decode(built)), 'mc/config meterveilConfig');
  return fail('invalid-config', 'config: none provisioned (preference meterveil/config or mcconfig meterveilConfig=<base64>)');
}
