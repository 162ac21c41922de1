/**
 * The message channel between a role process and whoever started it with an IPC channel (the
 * `start` supervisor, a test): the role says there that it is ready, that it is stopping on a
 * signal, or why its command failed. Log lines stay for people; nothing parses them. A role
 * started by hand has no channel, and these calls do nothing.
 */
import type { ChildProcess } from 'node:child_process';

export type RoleMessage = { role: 'ready' } | { role: 'stopping'; signal: string } | { role: 'failed'; reason: string; message: string };

function send(message: RoleMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
    // The channel must not keep a role alive once its command has ended.
    process.channel?.unref();
  });
}

export const announceReady = (): Promise<void> => send({ role: 'ready' });
export const announceStopping = (signal: string): Promise<void> => send({ role: 'stopping', signal });
export const announceFailure = (reason: string, message: string): Promise<void> => send({ role: 'failed', reason, message });

export function isRoleMessage(value: unknown): value is RoleMessage {
  if (value === null || typeof value !== 'object') return false;
  const { role } = value as { role?: unknown };
  return role === 'ready' || role === 'stopping' || role === 'failed';
}

/** Calls `onMessage` for each role message from `child` (spawned with an 'ipc' stdio entry). */
export function onRoleMessage(child: ChildProcess, onMessage: (message: RoleMessage) => void): void {
  child.on('message', (value) => {
    if (isRoleMessage(value)) onMessage(value);
  });
}
