/** The embedded MQTT broker's refusals, counted by reason (host/broker/embedded.ts, docs/pipeline.md); it also refuses `oversized`. */
export const brokerReasons = {
  'bad-credentials': 'a connection with an unknown user name or a wrong password',
  'client-id-not-allowed': 'a connection whose client id is not the user name or `<user>/<suffix>`',
  'publish-not-allowed': 'a publish to a topic the user’s ACL does not allow',
  'subscribe-not-allowed': 'a subscription to a filter the user’s ACL does not name exactly',
} as const;
