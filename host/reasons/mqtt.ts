/** A role's connection to the MQTT broker, embedded or not (host/mqtt/client.ts). */
export const mqttReasons = {
  'broker-unreachable': 'a role that could not connect to the MQTT broker in time',
  'broker-login-refused': 'a role whose user name or password the MQTT broker refused',
} as const;
