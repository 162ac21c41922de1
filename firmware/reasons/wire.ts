/**
 * Refusals of the wire decoders for reports and acknowledgements (firmware/protocol/report.ts,
 * docs/wire-format.md) and of the JSON messages between host roles, which share these names.
 */
export const wireReasons = {
  malformed: 'a message that is not bytes, not JSON, or not the object its type requires',
  oversized: 'a message larger than its limit (1700 bytes for a report, 1 MiB on the broker), refused before it is read',
  truncated: 'a message that ends before its header, fields or tag do',
  'trailing-bytes': 'a message with bytes after its last field',
  'unsupported-version': 'a message of a protocol version this build does not speak',
  'wrong-message-type': 'a message of another type than the topic or decoder expects',
  'malformed-id': 'a meter, group or request id that is not 1-64 characters of A-Z a-z 0-9 . _ -',
  'malformed-key-id': 'a key id that is not 16 lowercase hex characters',
  'unexpected-topic': 'a message on a topic that names no known meter, or not the receiving meter’s own',
  'bad-mac': 'a report or acknowledgement whose HMAC tag does not verify under the meter’s key',
  'bad-authenticator':
    'a report without a valid authenticator for the custodian checking it: forged with the aggregators’ MAC key, relabelled or re-randomised',
} as const;
