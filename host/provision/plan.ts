/**
 * What provisioning hands to each party, computed in memory before anything is written:
 *   meter M:      its id, a fresh 32-byte MAC key and device key, a fresh broker password, its
 *                 groups, the provider's public key and the slot/packing parameters, for an
 *                 mqtts:// broker the deployment CA's certificate, as the JSON object the
 *                 firmware validates (firmware/config/schema.ts);
 *   aggregator G: the MAC keys of G's members and their acknowledgement keys for G only (derived
 *                 from each device key, which no aggregator gets), and its own broker password;
 *   provider:     its own broker password and every meter's status key (derived from its device
 *                 key), with which it checks the meters' health statuses and can forge nothing else;
 *   feeders:      their own broker password;
 *   broker:       every user with a password (hashed when written) and the ACL of host/broker/acl.ts.
 * Every meter configuration is checked by the firmware's own validator here, so a plan the
 * meters would refuse is never written.
 */
import { randomBytes } from 'node:crypto';
import { bytesToHex } from '../../firmware/bytes.ts';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { validateDeviceConfig } from '../../firmware/config/platform-sensors.ts';
import { validateConfig } from '../../firmware/config/schema.ts';
import type { Cosigners } from '../../firmware/keys/announcement.ts';
import { deriveAckKey, deriveCustodianKey, deriveStatusKey } from '../../firmware/protocol/meter-keys.ts';
import { publicKeyToJson, type PublicKeyJson } from '../../firmware/paillier/codec.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { buildAcl, type Acl } from '../broker/acl.ts';
import { addAggregatorHosts } from '../broker/deployment-acl.ts';
import { addCustodianAcl } from '../broker/custodian-acl.ts';
import { aggregatorHostUser, aggregatorUser, custodianUser, feederUser, meterUser, PROVIDER_USER } from '../config/identities.ts';
import { allMeters, brokerUrlFields, type MeterveilConfig } from '../config/schema.ts';
import { householdOf } from '../feeder/households.ts';
import { deriveMaskKey } from '../../firmware/masked/mask.ts';
import { nodeHmacSha256 } from '../protocol/mac.ts';
import { freshPassword } from './credentials.ts';
import { mergeSettings, platformOf, type DeviceFile, type WifiSettings } from './devices.ts';

export const MAC_KEY_BYTES = 32;

/** The firmware's configuration object, exactly as validateConfig reads it. */
export interface FirmwareConfigJson {
  meterId: string;
  publicKey: PublicKeyJson;
  macKey: string;
  deviceKey: string;
  /** `url` for one broker, `urls` for a tier (firmware/config/schema.ts takes either). */
  broker: ({ url: string } | { urls: string[] }) & { username: string; password: string; ca?: string };
  groups: string[];
  slotSeconds: number;
  packing: { readings: number; maxGroupSize: number; maxPowerWatts: number };
  /** The provider's Ed25519 signing public key (hex), which key rotation announcements must verify under. */
  signingKey?: string;
  /** Threshold mode: announcements need t of these custodians' cosignatures too. */
  cosigners?: { threshold: number; keys: string[] };
  /** Threshold mode: the number of custodians, each of which gets an authenticator in every report. */
  custodians?: number;
  sensor: Record<string, unknown>;
}

/** A meter that is built for a board (`provision --devices`): what its firmware build needs besides its config. */
export interface DeviceBuild {
  board: string;
  /** ESP32 boards: the network the meter joins before it reaches the broker. */
  wifi?: WifiSettings;
}

/** A role's secrets file: the format of host/config/secrets.ts, holding only what the role needs. */
export interface RoleSecrets {
  meters: Record<
    string,
    {
      macKey?: string;
      deviceKey?: string;
      ackKeys?: Record<string, string>;
      custodianKey?: string;
      statusKey?: string;
      maskKeys?: Record<string, string>;
      password?: string;
    }
  >;
  services: Record<string, string>;
}

export interface ProvisionPlan {
  keyId: string;
  /** The deployment's outage bound (config outageSeconds): mosquitto queues that long for an aggregator. */
  outageSeconds: number;
  meters: FirmwareConfigJson[];
  /** The meters provisioned for a board, by meter id; the others run in simulation. */
  devices: Map<string, DeviceBuild>;
  /** All secrets, for a deployment that runs every service in one process (`meterveil start`). */
  allInOne: RoleSecrets;
  aggregators: Map<string, RoleSecrets>;
  /** By host name (config `aggregators`): what each aggregator host needs for all its groups. */
  aggregatorHosts: Map<string, RoleSecrets>;
  provider: RoleSecrets;
  /** Threshold keys only: each custodian's broker password and its key of every meter, by custodian index. */
  custodians: Map<number, RoleSecrets>;
  feeders: Map<string, { username: string; password: string; url: string }>;
  /** Plain passwords by broker user; hashed before they are written for the broker. */
  brokerUsers: Map<string, string>;
  acl: Acl;
  /** How long the broker keeps the session of a client that stays away: the deployment's retention.horizonSeconds. */
  sessionExpirySeconds: number;
}

export interface PlanOptions {
  signingPublicKey?: Uint8Array;
  /** Number of custodians when the key is a threshold key; they get broker users and ACL entries. */
  custodians?: number;
  /** Threshold mode: the custodians whose cosignatures a key announcement needs (t of them). */
  cosigners?: Cosigners;
  /** Boards, sensors, Wi-Fi and broker URLs of the meters (host/provision/devices.ts). */
  devices?: DeviceFile;
  /** The deployment CA's certificate (DER hex): a meter with an mqtts:// URL trusts it alone. */
  caDerHex?: string;
}

/**
 * A meter's sensor settings: its own, or the simulated household the simulated feeders assume for
 * it (host/feeder/households.ts), which also fills what a simulated sensor leaves out, so that no
 * two meters share a household by default.
 */
function sensorFor(meterId: string, given: Record<string, unknown> | undefined): Record<string, unknown> {
  const household = householdOf(meterId);
  if (given === undefined) return { kind: 'simulated', ...household };
  return given.kind === 'simulated' ? { ...household, ...given } : given;
}

function brokerFor(urls: string[], username: string, password: string, ca: string | undefined): FirmwareConfigJson['broker'] {
  return { ...brokerUrlFields(urls), username, password, ...(urls[0].startsWith('mqtts://') && ca !== undefined ? { ca } : {}) };
}

function refuseMeter(meterId: string, board: string | undefined, explanation: string): never {
  return fail('meter-would-refuse', `meter ${meterId}${board ? ` (${board})` : ''}: ${explanation}`);
}

export function planProvisioning(config: MeterveilConfig, publicKey: PaillierPublicKey, options: PlanOptions = {}): ProvisionPlan {
  const { signingPublicKey, custodians: custodianCount = 0, cosigners, devices: deviceFile, caDerHex } = options;
  const publicKeyJson = publicKeyToJson(publicKey);
  const macKeys = new Map<string, string>();
  const deviceKeys = new Map<string, Uint8Array>();
  const brokerUsers = new Map<string, string>();
  const allInOne: RoleSecrets = { meters: {}, services: {} };
  const devices = new Map<string, DeviceBuild>();
  const layoutMeters = new Set(allMeters(config));
  for (const meterId of deviceFile?.meters.keys() ?? [])
    if (!layoutMeters.has(meterId)) fail('bad-device-settings', `meters.${meterId}: no group lists this meter`);

  const meters = allMeters(config).map((meterId): FirmwareConfigJson => {
    const settings = mergeSettings(deviceFile?.defaults, deviceFile?.meters.get(meterId));
    const board = settings.board;
    const macKey = bytesToHex(randomBytes(MAC_KEY_BYTES));
    const deviceKey = new Uint8Array(randomBytes(MAC_KEY_BYTES));
    const password = freshPassword();
    const username = meterUser(meterId);
    macKeys.set(meterId, macKey);
    deviceKeys.set(meterId, deviceKey);
    brokerUsers.set(username, password);
    allInOne.meters[meterId] = { macKey, deviceKey: bytesToHex(deviceKey), password };
    const firmwareConfig: FirmwareConfigJson = {
      meterId,
      publicKey: publicKeyJson,
      macKey,
      deviceKey: bytesToHex(deviceKey),
      broker: brokerFor(settings.brokerUrl ? [settings.brokerUrl] : config.broker.urls, username, password, caDerHex),
      groups: config.groups.filter((g) => g.members.includes(meterId)).map((g) => g.id),
      slotSeconds: config.slotSeconds,
      packing: {
        readings: config.packing.readings,
        maxGroupSize: config.packing.maxGroupSize,
        maxPowerWatts: config.packing.maxPowerWatts,
      },
      ...(signingPublicKey ? { signingKey: bytesToHex(signingPublicKey) } : {}),
      ...(cosigners ? { cosigners: { threshold: cosigners.threshold, keys: cosigners.keys.map(bytesToHex) } } : {}),
      ...(custodianCount > 0 ? { custodians: custodianCount } : {}),
      sensor: sensorFor(meterId, settings.sensor),
    };
    try {
      // A board's build checks its config as its entry does at boot; a simulated meter runs MQTT.js.
      if (board) validateDeviceConfig(firmwareConfig, platformOf(board));
      else validateConfig(firmwareConfig);
    } catch (e) {
      if (e instanceof MeterveilError) refuseMeter(meterId, board, e.message);
      throw e;
    }
    if (board) {
      if (platformOf(board) === 'esp32' && !settings.wifi)
        refuseMeter(meterId, board, 'wifi is required: the ESP32 joins a Wi-Fi network before it reaches the broker');
      devices.set(meterId, { board, ...(platformOf(board) === 'esp32' ? { wifi: settings.wifi } : {}) });
    }
    return firmwareConfig;
  });

  const service = (user: string) => {
    const password = brokerUsers.get(user) ?? freshPassword();
    brokerUsers.set(user, password);
    allInOne.services[user] = password;
    return password;
  };

  const aggregators = new Map<string, RoleSecrets>();
  const feeders = new Map<string, { username: string; password: string; url: string }>();
  for (const group of config.groups) {
    const user = aggregatorUser(group.id);
    aggregators.set(group.id, {
      meters: Object.fromEntries(
        group.members.map((m) => [
          m,
          { macKey: macKeys.get(m)!, ackKeys: { [group.id]: bytesToHex(deriveAckKey(deviceKeys.get(m)!, group.id, nodeHmacSha256)) } },
        ]),
      ),
      services: { [user]: service(user) },
    });
    const feeder = feederUser(group.feeder);
    feeders.set(group.feeder, { username: feeder, password: service(feeder), url: config.broker.url });
  }
  // A host's secrets are its groups' together: the MAC keys of their members, each member's
  // acknowledgement key of each of its groups there, and the host's own broker password.
  const aggregatorHosts = new Map<string, RoleSecrets>();
  for (const host of config.aggregators) {
    const user = aggregatorHostUser(host.name);
    const meters: RoleSecrets['meters'] = {};
    for (const groupId of host.groups) {
      for (const [m, keys] of Object.entries(aggregators.get(groupId)!.meters))
        meters[m] = { ...keys, ackKeys: { ...meters[m]?.ackKeys, ...keys.ackKeys } };
    }
    aggregatorHosts.set(host.name, { meters, services: { [user]: service(user) } });
  }
  // A masked deployment's mask keys go to the holders alone: the provider's (holder 0) in
  // single-key mode, custodian i's (holder i) in verifiable mode; never to an aggregator.
  const maskKeysOf = (deviceKey: Uint8Array, holder: number) =>
    config.scheme.name === 'masked'
      ? {
          maskKeys: Object.fromEntries(
            config.scheme.keyIds.map((id) => [id, bytesToHex(deriveMaskKey(deviceKey, id, holder, nodeHmacSha256))]),
          ),
        }
      : {};
  const provider: RoleSecrets = {
    meters: Object.fromEntries(
      [...deviceKeys].map(([m, deviceKey]) => [
        m,
        { statusKey: bytesToHex(deriveStatusKey(deviceKey, nodeHmacSha256)), ...(custodianCount === 0 ? maskKeysOf(deviceKey, 0) : {}) },
      ]),
    ),
    services: { [PROVIDER_USER]: service(PROVIDER_USER) },
  };
  const custodians = new Map<number, RoleSecrets>();
  for (let index = 1; index <= custodianCount; index++) {
    const user = custodianUser(index);
    const keys = [...deviceKeys].map(([m, deviceKey]) => [
      m,
      { custodianKey: bytesToHex(deriveCustodianKey(deviceKey, index, nodeHmacSha256)), ...maskKeysOf(deviceKey, index) },
    ]);
    custodians.set(index, { meters: Object.fromEntries(keys), services: { [user]: service(user) } });
  }
  const acl = addAggregatorHosts(
    addCustodianAcl(
      buildAcl(config),
      custodianCount,
      config.groups.map((g) => g.id),
    ),
    config,
  );
  const sessionExpirySeconds = config.retention.horizonSeconds;
  return {
    keyId: publicKey.keyId,
    outageSeconds: config.outageSeconds,
    meters,
    devices,
    allInOne,
    aggregators,
    aggregatorHosts,
    provider,
    custodians,
    feeders,
    brokerUsers,
    acl,
    sessionExpirySeconds,
  };
}
