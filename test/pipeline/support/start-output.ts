/**
 * What `meterveil start` printed, read as an operator's script would: its output is not a
 * terminal, so every line is a JSON log record, its own and those of the roles it shows.
 */
import { until } from '../../helpers/poll.ts';
import type { RunningCli } from '../../helpers/cli.ts';

export type StartRecord = Record<string, unknown>;

export function startRecords(start: RunningCli): StartRecord[] {
  return start.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as StartRecord);
}

/** The provider's records of decrypted totals. */
export function decryptedRecords(start: RunningCli): StartRecord[] {
  return startRecords(start).filter((r) => r.role === 'provider' && typeof r.total === 'string');
}

/**
 * Waits for the fleet to run and for its first slot to be decrypted for every group, with all
 * `members` meters of each in the printed line; the first slot.
 */
export async function firstSlotDecrypted(
  start: RunningCli,
  groups: readonly { id: string; members: readonly string[] }[],
  timeouts: { running: number; decrypted: number },
): Promise<number> {
  const said = () => `\n${start.output}`;
  const running = await until(
    () => startRecords(start).find((r) => r.role === 'start' && /they report from slot/.test(String(r.msg))),
    'the fleet running',
    timeouts.running,
    said,
  );
  const first = Number(running.slot);
  const lineOf = (g: (typeof groups)[number]) =>
    new RegExp(`^slot ${first} \\S+ ${g.id}: ${g.members.length}/${g.members.length} meters, total [\\d.]+ Wh`);
  await until(
    () => groups.every((g) => decryptedRecords(start).some((r) => r.group === g.id && r.slot === first && lineOf(g).test(String(r.msg)))),
    `slot ${first} decrypted for every group`,
    timeouts.decrypted,
    said,
  );
  return first;
}
