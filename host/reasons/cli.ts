/** The command line, the processes it runs and the simulation (host/cli/, host/start/, host/simulate/): usage errors exit 2, others 1. */
export const cliReasons = {
  'bad-argument': 'a command-line argument that is malformed or out of range (exit code 2)',
  'bad-config-file': 'a meter-config file given to simulate that cannot be read or is not a list of meter configs (exit code 2)',
  'bad-profile': 'a load-profile CSV that does not have the expected layout or values',
  'duplicate-meter': 'a meter id that appears twice in one simulated fleet',
  'cannot-listen': 'a port the broker or the HTTP API cannot listen on: in use by another process, or not permitted',
  'role-exited': 'a role that `meterveil start` runs exited before it was ready; its log says why',
  'internal-error': 'an unexpected failure (a bug): the provider counts the message or answers HTTP 500, the CLI prints one line',
  'mosquitto-unavailable':
    'broker --mosquitto on a machine without the mosquitto command, or without the user it runs as when started as root',
  'mosquitto-files-missing': 'broker --mosquitto given a folder without the mosquitto.conf, passwords and acl that provision writes',
  'mosquitto-folder-unreachable':
    'broker --mosquitto run as root with a folder above the broker folder that mosquitto’s own user cannot pass',
  'mosquitto-exited': 'mosquitto, run by broker --mosquitto, exited by itself or did not listen in time; its last log line says why',
  'nats-unavailable': 'broker --nats or start --cluster on a machine without the nats-server command',
  'nats-files-missing': 'broker --nats given a file that is not a node config provision or start --cluster wrote',
  'nats-exited': 'nats-server, run by broker --nats, exited by itself or did not listen in time; its last log line says why',
  'flash-meter-unknown': 'flash --meter for a meter the given provisioning folder does not hold',
  'flash-board-unknown': 'flash without a board (none given, none recorded by provision --devices) or with a malformed one',
  'flash-board-mismatch': 'flash --board for another board than the meter was provisioned for, whose firmware might refuse its config',
  'sdk-missing': 'flash without the Moddable SDK: MODDABLE unset, or its tools not built',
  'esp-idf-missing': 'flash for an ESP32 without ESP-IDF: IDF_PATH unset',
  'flash-step-failed': 'a step of flash (mcconfig, the simulator) that exited with an error; its own output says why',
  'xs-unavailable': 'the XS engine that simulate and start run the meters in is not built, or the platform is not Linux',
  'load-not-loopback':
    'meterveil load asked to run its services on a host that is not loopback (localhost, 127.0.0.0/8, ::1): it only loads this machine (exit code 2)',
  'load-incomplete': 'a load run whose slots were not all decrypted once with the expected counts and totals within its time bound',
  'bad-random-request': 'a request from the XS simulator for randomness of a length outside 1..4096',
} as const;
