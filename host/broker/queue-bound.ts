/**
 * A bound on each persistent session's queue in the embedded broker, as mosquitto's
 * max_queued_messages: aedes 1.2 keeps every QoS 1 message for a subscriber's session in memory,
 * without limit, so a client publishing fast while a role was away could fill the broker's heap.
 * Counted per client id: messages queued for it, less those it acknowledged (or that a clean
 * login discarded). A full queue drops the new message for that session alone, as mosquitto does;
 * the meters send their reports again.
 */

/** The part of aedes' persistence this wraps (aedes 1.2 calls it with promises; its types declare callbacks). */
export interface OutgoingQueues {
  outgoingEnqueue(sub: { clientId: string }, packet: unknown): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: unknown): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
}

/**
 * Makes `persistence` drop what would take a session's queue past `max`; `full` hears of each
 * dropped message, with whether it is the first since the queue was last below the bound.
 */
export function boundSessionQueues(persistence: OutgoingQueues, max: number, full: (clientId: string, first: boolean) => void): void {
  const queued = new Map<string, number>();
  const atBound = new Set<string>();
  const take = (clientId: string) => {
    const n = queued.get(clientId) ?? 0;
    if (n >= max) {
      full(clientId, !atBound.has(clientId));
      atBound.add(clientId);
      return false;
    }
    queued.set(clientId, n + 1);
    return true;
  };
  const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
  const enqueue = persistence.outgoingEnqueue.bind(persistence);
  const clear = persistence.outgoingClearMessageId.bind(persistence);
  persistence.outgoingEnqueueCombi = (subs, packet) => {
    const room = subs.filter((s) => take(s.clientId));
    return room.length === 0 ? Promise.resolve() : enqueueCombi(room, packet);
  };
  // The broker's own messages to one client ($SYS): counted, never dropped (aedes delivers them at once).
  persistence.outgoingEnqueue = (sub, packet) => {
    queued.set(sub.clientId, (queued.get(sub.clientId) ?? 0) + 1);
    return enqueue(sub, packet);
  };
  persistence.outgoingClearMessageId = async (client, packet) => {
    const removed = await clear(client, packet);
    if (removed) {
      const n = (queued.get(client.id) ?? 0) - 1;
      if (n > 0) queued.set(client.id, n);
      else queued.delete(client.id);
      if (n < max) atBound.delete(client.id);
    }
    return removed;
  };
}
