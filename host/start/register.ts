/** The pipeline's commands: broker, aggregator, provider, feeder and start. */
import type { Command } from 'commander';
import { registerRoles } from './roles.ts';

export function register(program: Command): void {
  registerRoles(program);
}
