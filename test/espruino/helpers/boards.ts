/**
 * Espruino bundles of a test deployment, each on its own sandboxed board (tools/espruino/sandbox.ts)
 * with its own flash files, all on one virtual clock: boot, reboot on the same files, read a
 * meter's counters, and move the clock to a slot's end waiting until every report is acknowledged.
 */
import type { VirtualClock } from '../../../firmware/platform/virtual-clock.ts';
import { espruinoMeterConfig } from '../../../host/provision/espruino.ts';
import { CONFIG_FILE } from '../../../firmware/platform/espruino/storage.ts';
import { espruinoBoard, type EspruinoBoard, type EspruinoFiles } from '../../../tools/espruino/sandbox.ts';
import type { TestDeployment } from '../../../tools/pipeline/deployment.ts';
import { until } from '../../helpers/poll.ts';

export class EspruinoBoards {
  readonly logs: string[] = [];
  private readonly boards = new Map<string, { board: EspruinoBoard; files: EspruinoFiles }>();
  /** Reports each meter has had acknowledged before its current board booted. */
  private readonly before = new Map<string, number>();

  constructor(
    private readonly code: string,
    private readonly clock: VirtualClock,
  ) {}

  private readonly hardware = new Map<string, Record<string, unknown>>();

  /** A new board for a meter of the deployment, its configuration in Storage, with the hardware globals given. */
  add(d: TestDeployment, meterId: string, extra: Record<string, unknown>, hardware: Record<string, unknown> = {}): void {
    const files: EspruinoFiles = new Map([[CONFIG_FILE, JSON.stringify(espruinoMeterConfig(d.config, d.secrets, meterId, extra))]]);
    this.hardware.set(meterId, hardware);
    this.boot(meterId, files);
  }

  private boot(meterId: string, files: EspruinoFiles): void {
    const board = espruinoBoard({ clock: this.clock, files, log: (line) => this.logs.push(line), hardware: this.hardware.get(meterId) });
    board.run(this.code);
    this.boards.set(meterId, { board, files });
  }

  run(meterId: string, script: string): unknown {
    return this.boards.get(meterId)!.board.run(script);
  }

  stats(meterId: string): Record<string, any> {
    return this.run(meterId, 'meterveil.stats()') as Record<string, any>;
  }

  files(meterId: string): EspruinoFiles {
    return this.boards.get(meterId)!.files;
  }

  /** Acknowledged reports over the meter's boards. */
  acknowledged(meterId: string): number {
    return (this.before.get(meterId) ?? 0) + this.stats(meterId).reportsAcknowledged;
  }

  /** Power off and on: a new board on the same flash files (as `edit` leaves them). */
  async reboot(meterId: string, edit: (files: EspruinoFiles) => void = () => {}): Promise<void> {
    const { board, files } = this.boards.get(meterId)!;
    this.before.set(meterId, this.acknowledged(meterId));
    board.run('meterveil.stop()');
    await board.powerOff();
    edit(files);
    this.boot(meterId, files);
    await until(
      () => this.stats(meterId).connected,
      `${meterId} to connect again`,
      10_000,
      () => this.tail(),
    );
  }

  async connected(): Promise<void> {
    await until(
      () => [...this.boards.keys()].every((m) => this.stats(m).connected),
      'the boards to connect',
      10_000,
      () => this.tail(),
    );
  }

  /** Moves the clock to `ms` and waits until every meter has `reports` acknowledged and nothing held. */
  async advanceTo(ms: number, reports: number): Promise<void> {
    this.clock.advanceTo(ms);
    const meters = [...this.boards.keys()];
    await until(
      () => meters.every((m) => this.stats(m).outboxSize === 0 && this.acknowledged(m) >= reports),
      `${reports} reports of each meter to be acknowledged`,
      10_000,
      () => `\n${meters.map((m) => JSON.stringify(this.stats(m))).join('\n')}${this.tail()}`,
    );
  }

  tail(): string {
    return `\n${this.logs.slice(-10).join('\n')}`;
  }

  async close(): Promise<void> {
    for (const { board } of this.boards.values()) {
      board.run('meterveil && meterveil.stop()');
      await board.powerOff();
    }
  }
}
