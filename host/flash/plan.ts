/**
 * What `meterveil flash` runs for one provisioned meter, worked out before anything runs: the
 * Moddable SDK's mcconfig in the manifest of the meter's platform, with the meter's mcconfig
 * arguments (its configuration baked in as `meterveilConfig`, and an ESP32's Wi-Fi), then on `lin`
 * the simulator with the app it built. The SDK and, for an ESP32, ESP-IDF are found through the
 * variables their own setup guides export; without them nothing runs and the refusal names the
 * variable and the page of the docs that explains it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../../firmware/errors.ts';
import type { DevicePlatform } from '../../firmware/config/platform-sensors.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SDK_DOCS = 'docs/firmware.md#building-for-the-device-moddable-sdk-82';

export interface FlashRequest {
  /** The `provision` output folder. */
  provisioned: string;
  meterId: string;
  /** `esp32/<board>` or `lin`; absent: the board `provision --devices` recorded for the meter. */
  board?: string;
  /** The serial device of an ESP32 (the SDK's UPLOAD_PORT); absent: the SDK's default. */
  port?: string;
  /** A release build (no xsbug connection) instead of the SDK's debug build. */
  release?: boolean;
  env: NodeJS.ProcessEnv;
}

export interface FlashStep {
  what: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
}

export interface FlashPlan {
  meterId: string;
  board: string;
  /** Also the firmware bundle built before the steps (host/flash/device-bundle.ts). */
  platform: DevicePlatform;
  steps: FlashStep[];
}

const BOARD = /^(lin|esp32\/[a-z0-9_-]{1,40})$/;

function recordedBoard(meterDir: string): string | undefined {
  const path = join(meterDir, 'device.json');
  if (!existsSync(path)) return undefined;
  return (JSON.parse(readFileSync(path, 'utf8')) as { board?: string }).board;
}

export function planFlash(request: FlashRequest): FlashPlan {
  const meterDir = join(request.provisioned, 'meters', request.meterId);
  const argsPath = join(meterDir, 'mcconfig.args');
  if (!existsSync(argsPath))
    fail(
      'flash-meter-unknown',
      `${argsPath} does not exist: give the folder \`meterveil provision\` wrote (--from) and a meter it provisioned`,
    );
  const board = request.board ?? recordedBoard(meterDir);
  if (board === undefined)
    fail('flash-board-unknown', `meter ${request.meterId} was provisioned without a board: give --board esp32/<board> or --board lin`);
  if (!BOARD.test(board)) fail('flash-board-unknown', `--board must be "lin" or "esp32/<board>", e.g. esp32/nodemcu; got "${board}"`);
  const platform: DevicePlatform = board === 'lin' ? 'lin' : 'esp32';
  const recorded = recordedBoard(meterDir);
  if (recorded !== undefined && recorded !== board)
    fail(
      'flash-board-mismatch',
      `meter ${request.meterId} was provisioned for ${recorded}, whose config its ${board} build may refuse; provision it again for ${board}`,
    );

  const moddable = request.env.MODDABLE;
  if (!moddable) fail('sdk-missing', `MODDABLE is not set: export the Moddable SDK's folder as MODDABLE (${SDK_DOCS})`);
  const tools = join(moddable, 'build/bin/lin/release');
  if (!existsSync(join(tools, 'mcconfig')))
    fail(
      'sdk-missing',
      `${join(tools, 'mcconfig')} does not exist: build the SDK's tools (cd $MODDABLE/build/makefiles/lin && make; ${SDK_DOCS})`,
    );
  const idfPath = request.env.IDF_PATH;
  if (platform === 'esp32' && !idfPath)
    fail('esp-idf-missing', `IDF_PATH is not set: an ESP32 build needs ESP-IDF, set up as the SDK's ESP32 guide says (${SDK_DOCS})`);

  const meterArgs = readFileSync(argsPath, 'utf8').split('\n').filter(Boolean);
  const env: Record<string, string> = { MODDABLE: moddable, PATH: `${tools}:${request.env.PATH ?? ''}` };
  if (idfPath && platform === 'esp32') env.IDF_PATH = idfPath;
  if (request.port) env.UPLOAD_PORT = request.port;
  const manifest = join(ROOT, 'manifests', platform);
  const steps: FlashStep[] = [];
  if (platform === 'esp32') {
    steps.push({
      what: `build and flash for ${board}`,
      command: 'mcconfig',
      args: [...(request.release ? [] : ['-d']), '-m', '-p', board, ...meterArgs],
      cwd: manifest,
      env,
    });
  } else {
    // Every simulated meter keeps its state (outbox, sequence numbers, key schedule) in a folder of its own.
    const stateFolder = `stateFolder=${join(resolve(meterDir), 'lin-state')}/`;
    steps.push({
      what: 'build for the lin simulator',
      command: 'mcconfig',
      args: ['-m', '-p', 'lin', '-t', 'build', ...meterArgs, stateFolder],
      cwd: manifest,
      env,
    });
    // mcconfig names the app after the manifest's folder; the simulator is a GTK program, so it runs under a virtual display when there is none.
    const app = join(moddable, 'build/bin/lin/mc/release/lin/mc.so');
    // Unbuffered, so the meter's log lines reach a pipe or a file as they are written.
    const simulator = ['stdbuf', '-o0', join(tools, 'mcsim'), app];
    steps.push(
      request.env.DISPLAY
        ? { what: 'run in the lin simulator', command: simulator[0], args: simulator.slice(1), cwd: ROOT, env }
        : { what: 'run in the lin simulator (virtual display)', command: 'xvfb-run', args: ['-a', ...simulator], cwd: ROOT, env },
    );
  }
  return { meterId: request.meterId, board, platform, steps };
}

/** mcconfig arguments that hold a secret: the meter's keys and broker password, the Wi-Fi password. */
const SECRET_ARGUMENT = /^(meterveilConfig|password)=/;

/** A step as a shell line, for --dry-run: secrets are shown as where they come from, never themselves. */
export function describeStep(step: FlashStep): string {
  const quote = (word: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
  const shown = (word: string) =>
    SECRET_ARGUMENT.test(word) ? `${word.slice(0, word.indexOf('=') + 1)}<from mcconfig.args>` : quote(word);
  const variables = Object.entries(step.env)
    .filter(([name]) => name !== 'PATH')
    .map(([name, value]) => `${name}=${quote(value)}`);
  return `(cd ${quote(step.cwd)} && ${[...variables, quote(step.command), ...step.args.map(shown)].join(' ')})`;
}
