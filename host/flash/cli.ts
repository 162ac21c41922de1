/** `meterveil flash --meter ID`: builds a provisioned meter's firmware with the Moddable SDK, flashes it, or runs it on lin. */
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { fail } from '../../firmware/errors.ts';
import { cliAction, usage } from '../cli/action.ts';
import { bundleDeviceFirmware } from './device-bundle.ts';
import { describeStep, planFlash, type FlashStep } from './plan.ts';

interface FlashOptions {
  meter: string;
  from: string;
  board?: string;
  platform?: string;
  port?: string;
  release?: boolean;
  dryRun?: boolean;
}

function runStep(step: FlashStep): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(step.command, step.args, { cwd: step.cwd, env: { ...process.env, ...step.env }, stdio: 'inherit' });
    const stop = () => child.kill('SIGTERM');
    process.once('SIGTERM', stop);
    child.once('error', (e) => reject(new Error(`${step.command}: ${e.message}`)));
    child.once('exit', (code, signal) => {
      process.off('SIGTERM', stop);
      if (code === 0 || signal === 'SIGTERM' || signal === 'SIGINT') resolve();
      else reject(new Error(`${step.what} failed (${signal ?? `exit code ${code}`}): ${describeStep(step)}`));
    });
  }).catch((e: Error) => fail('flash-step-failed', e.message));
}

export function register(program: Command) {
  program
    .command('flash')
    .description("build a provisioned meter's firmware with the Moddable SDK and flash it to an ESP32, or run it in the lin simulator")
    .requiredOption('--meter <id>', 'the meter, as provision named it')
    .option('--from <dir>', 'the folder provision wrote', 'provisioned')
    .option('--board <board>', 'esp32/<board> (e.g. esp32/nodemcu) or lin; default: the board provision --devices recorded')
    .option('--platform <platform>', 'lin: build for the simulator and run it (the same as --board lin)')
    .option('--port <device>', "the ESP32's serial device (the SDK's UPLOAD_PORT)")
    .option('--release', 'a release build, which does not connect to xsbug')
    .option('--dry-run', 'print what would run, secrets shown as the file they come from, and run nothing')
    .action(
      cliAction(async (opts: FlashOptions) => {
        if (opts.platform !== undefined && opts.platform !== 'lin')
          usage('bad-argument', '--platform takes only lin; an ESP32 is chosen with --board esp32/<board>');
        if (opts.platform === 'lin' && opts.board !== undefined && opts.board !== 'lin')
          usage('bad-argument', '--platform lin and --board are different targets');
        const plan = planFlash({
          provisioned: opts.from,
          meterId: opts.meter,
          board: opts.platform ?? opts.board,
          port: opts.port,
          release: opts.release,
          env: process.env,
        });
        if (opts.dryRun) {
          process.stdout.write(`# bundle the firmware: build/moddable/${plan.platform}/main.js\n`);
          for (const step of plan.steps) process.stdout.write(`# ${step.what}\n${describeStep(step)}\n`);
          return;
        }
        process.stderr.write(`meterveil: ${plan.meterId} for ${plan.board}: bundling the firmware\n`);
        await bundleDeviceFirmware(plan.platform);
        for (const step of plan.steps) {
          process.stderr.write(`meterveil: ${plan.meterId}: ${step.what}\n`);
          await runStep(step);
        }
      }),
    );
}
