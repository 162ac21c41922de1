/**
 * Entry of the firmware bundle that runs inside xsnap-worker (host/simulate/xs-fleet.ts drives
 * it). One worker can hold several meters; each has its own virtual clock, storage and MQTT
 * session, so the computrons of a command belong to one meter.
 *
 * Commands (JSON): boot {meter, config, startMs, storage}, advance {meter, toMs},
 * connected / disconnected {meter}, message {meter, topic, payload}, stop {meter}, stats {meter}.
 * Every reply carries the actions the command caused, in order.
 */
import { callHost, serveCommands } from './xs-side.ts';
import { validateConfig } from '../../config/schema.ts';
import { fail } from '../../errors.ts';
import { Meter } from '../../meter/meter.ts';
import { createBridgedPlatform, type Action, type BridgedPlatform } from './bridge.ts';

interface Hosted {
  platform: BridgedPlatform;
  meter: Meter;
}

const meters = new Map<string, Hosted>();
let actions: { meter: string; action: Action }[] = [];

function hostRandom(length: number): string {
  return callHost<string>({ op: 'random', length });
}

function hosted(id: unknown): Hosted {
  const h = meters.get(String(id));
  if (!h) fail('unknown-meter', `no meter ${String(id)} in this worker`);
  return h;
}

function boot(command: { meter: string; config: unknown; startMs: number; storage: [string, string][] }) {
  const emit = (action: Action) => actions.push({ meter: command.meter, action });
  if (meters.has(command.meter)) fail('meter-running', `meter ${command.meter} is already running`);
  let config;
  try {
    config = validateConfig(command.config);
  } catch (error) {
    // A meter with a bad configuration stays silent on the network: it only says why.
    emit({ kind: 'log', line: `meter ${command.meter}: refusing to start: ${(error as Error).message}` });
    throw error;
  }
  const platform = createBridgedPlatform({ config, startMs: command.startMs, storage: command.storage, random: hostRandom, emit });
  const meter = new Meter(platform, config);
  meters.set(command.meter, { platform, meter });
  meter.start();
}

function handle(command: any): unknown {
  switch (command.op) {
    case 'boot':
      return boot(command);
    case 'advance':
      return hosted(command.meter).platform.clock.advanceTo(command.toMs);
    case 'connected':
    case 'disconnected':
    case 'message':
      return hosted(command.meter).platform.mqtt.deliver(command);
    case 'stop': {
      const h = meters.get(String(command.meter));
      h?.meter.stop();
      meters.delete(String(command.meter));
      return undefined;
    }
    case 'stats':
      return hosted(command.meter).meter.stats();
    default:
      return fail('unknown-command', `unknown command ${String(command.op)}`);
  }
}

serveCommands((command) => {
  actions = [];
  try {
    const result = handle(command);
    return { result: result ?? null, actions };
  } finally {
    actions = [];
  }
});
