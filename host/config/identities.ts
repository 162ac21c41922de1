/**
 * MQTT identities. Every party logs in with its own user name and password; the broker's ACL is
 * written in terms of these names (host/broker/acl.ts). A client id must be the user name or
 * start with "<user name>/", so that nobody can take over (and disconnect) another party's session.
 */
export const PROVIDER_USER = 'provider';

/** A meter logs in as its own id (its client id too); config parsing keeps meter ids clear of the service names. */
export function meterUser(meterId: string): string {
  return meterId;
}

export function isServiceName(id: string): boolean {
  return (
    id === PROVIDER_USER ||
    id.startsWith('aggregator.') ||
    id.startsWith('aggregators.') ||
    id.startsWith('feeder.') ||
    id.startsWith('custodian.')
  );
}

export function aggregatorUser(groupId: string): string {
  return `aggregator.${groupId}`;
}

/** An aggregator host (config `aggregators`), which runs several groups over one connection. */
export function aggregatorHostUser(hostName: string): string {
  return `aggregators.${hostName}`;
}

export function feederUser(feederId: string): string {
  return `feeder.${feederId}`;
}

/** Threshold mode: custodian i, an independent party, logs in as custodian.<i>. */
export function custodianUser(index: number): string {
  return `custodian.${index}`;
}

export function clientIdAllowed(username: string, clientId: string): boolean {
  return clientId === username || clientId.startsWith(`${username}/`);
}
