/** XS entry: serves the Paillier core's operations (tools/xs/core-ops.ts) to Node. */
import { runCoreCommand } from './core-ops.ts';
import { serveCommands } from '../../firmware/platform/xs-sim/xs-side.ts';

serveCommands(runCoreCommand);
