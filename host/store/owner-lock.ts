/**
 * One process at a time per store file. Two aggregators running one group on one file would each
 * take some of its reports (the other answers `duplicate`) and publish two partial products; so a
 * group moved to another aggregator host starts there only once the process that ran it let go of
 * its file. The lock is a file beside the store (<store>.owner, created exclusively) naming the
 * machine and process; one left by a process that died (kill -9, power loss) on this machine is
 * taken over, one of another machine (a shared folder) is refused: its process cannot be checked.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { fail } from '../../firmware/errors.ts';

export interface OwnerLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockStore(storePath: string, what: string): OwnerLock {
  const path = `${storePath}.owner`;
  const me = { machine: hostname(), pid: process.pid };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me) + '\n');
      closeSync(fd);
      return {
        release() {
          try {
            unlinkSync(path);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner: { machine?: unknown; pid?: unknown } = {};
    try {
      owner = JSON.parse(readFileSync(path, 'utf8')) as typeof owner;
    } catch {
      // Torn at creation by a crash: treated as a dead owner of this machine.
      owner = { machine: me.machine, pid: 0 };
    }
    if (owner.machine !== me.machine)
      fail(
        'store-in-use',
        `${what}: ${storePath} is locked by a process on ${String(owner.machine)} (${path}); stop it, or remove the lock if it is gone`,
      );
    if (typeof owner.pid === 'number' && owner.pid > 0 && alive(owner.pid))
      fail('store-in-use', `${what}: ${storePath} is in use by process ${owner.pid}; stop it first (a group runs in one process)`);
    unlinkSync(path);
  }
  return fail('store-in-use', `${what}: ${storePath}.owner keeps being recreated by another process`);
}
