/** The deployment config, secrets and provisioning (host/config/, host/provision/, docs/pipeline.md "Configuration"). */
export const configReasons = {
  'config-unreadable': 'a config file that cannot be read',
  'bad-config': 'a config that is not valid JSON, has an unknown key, or an impossible value; names the field',
  'secrets-missing': 'a secrets file, MAC key or password that the role needs and that does not exist',
  'bad-secrets': 'a secrets file that is not one',
  'meter-would-refuse': 'a provisioned meter configuration that the meter’s own schema, or the firmware of its board, would refuse',
  'bad-device-settings': 'a `provision --devices` file with an unknown key, a malformed value or a meter no group lists',
  'malformed-device-config': 'a device configuration form that is not the expected prefix and base64',
  'device-config-too-large': 'a meter configuration larger than the device can store',
  'malformed-password-hash': 'a broker password hash that is not scrypt$N$r$p$salt$hash with the expected parameters',
  'bad-slots': 'a `policy check --slots` file that is not JSON, has an unknown key or an impossible value; names the field',
  'unknown-aggregator-host':
    'an `aggregator --host` name that the config’s `aggregators` does not list, or a config that places no groups on hosts',
  'output-exists': 'an output folder that is not empty; nothing is written',
} as const;
