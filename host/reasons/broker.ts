/** The MQTT broker: the embedded broker's refusals, counted by reason (host/broker/embedded.ts, docs/pipeline.md), and a role's connection to any broker (host/broker/client.ts). */
export const brokerReasons = {
  'broker-unreachable': 'a role that could not connect to the MQTT broker in time',
  'broker-login-refused': 'a role whose user name or password the MQTT broker refused',
  'bad-credentials': 'a connection with an unknown user name or a wrong password',
  'client-id-not-allowed': 'a connection whose client id is not the user name or <user>/<suffix>',
  'publish-not-allowed': 'a publish to a topic the user’s ACL does not allow',
  'subscribe-not-allowed': 'a subscription to a filter the user’s ACL does not name exactly',
} as const;
