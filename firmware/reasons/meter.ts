/**
 * Refusals of the meter itself: its configuration (docs/firmware.md), energy integration, outbox,
 * storage and the acknowledgements it counts in `acksRejected`.
 */
export const meterReasons = {
  'invalid-config': 'a meter configuration that fails its schema; the meter stays off the network',
  'bad-integrator': 'a sub-slot length that is not a positive integer',
  'clock-went-back': 'a sample or virtual time earlier than the previous one',
  'bad-outbox-capacity': 'an outbox capacity that is not a positive integer',
  'seq-exhausted': 'the meter’s report sequence numbers are used up',
  'storage-key-too-long': 'a storage key longer than the 15 characters a device preference allows',
  'storage-value-too-large': 'a storage value larger than the 4000 bytes a device preference allows',
  'storage-key-unknown': 'a key the comb table’s flash partition has no place for (it holds the table’s header and entries only)',
  'storage-full': 'a storage write the meter’s storage has no room for; the outbox drops its oldest report (counted) to make room',
  'wrong-meter': 'an acknowledgement addressed to another meter',
  'unknown-group': 'a group id that the configuration does not list',
  'not-in-outbox': 'an acknowledgement for a report that is not (or no longer) in the outbox',
  'sensor-timeout': 'a PZEM-004T request without a complete reply within the reply timeout (counted in the sensor’s missesByReason)',
  'sensor-bad-crc': 'a PZEM-004T reply whose CRC-16/MODBUS does not match',
  'sensor-wrong-address': 'a PZEM-004T reply from another slave address than the configured one',
  'sensor-wrong-function': 'a PZEM-004T reply with another function code than read input registers (0x04)',
  'sensor-exception': 'a PZEM-004T Modbus exception reply (0x84)',
  'sensor-bad-frame': 'a PZEM-004T reply that does not carry the ten registers asked for',
} as const;
