/** The embedded MQTT broker's refusals, counted by reason (host/broker/embedded.ts, docs/pipeline.md); it also refuses `oversized`. */
export const brokerReasons = {
  'bad-credentials': 'a connection with an unknown user name or a wrong password',
  'client-id-not-allowed': 'a connection whose client id is not the user name or `<user>/<suffix>`',
  'publish-not-allowed': 'a publish to a topic the user’s ACL does not allow',
  'connect-expected': 'a connection whose first packet is not CONNECT; closed before its body is read',
  'oversized-packet':
    'a packet whose header declares more bytes than the broker accepts (a CONNECT above 16 KiB, any packet above a message); closed at once',
  'malformed-packet': 'a packet whose remaining length is not a valid MQTT length; the connection is closed',
  'connect-timeout': 'a connection that sent no CONNECT within the broker’s connect timeout; closed',
  'subscribe-not-allowed': 'a subscription to a filter the user’s ACL does not name exactly',
  'session-not-allowed':
    'a saved persistent session, or one of its subscriptions, that the users, client ids or ACL of the restarted broker no longer allow; not restored',
  'queue-full':
    'a message for a session whose queue already holds the broker’s bound (maxQueuedMessages, sized for the outage bound); dropped for that session, as mosquitto does',
  'sessions-file-malformed':
    'a saved-sessions file, or an entry of it, that does not parse; started without it, and replaced at the next write',
} as const;
