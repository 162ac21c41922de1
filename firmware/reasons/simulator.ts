/** Refusals of the XS meter simulator's command bridge (firmware/platform/xs-sim/, host/simulate/). */
export const simulatorReasons = {
  'meter-running': 'a command to start a meter that is already running in this worker',
  'unknown-command': 'a bridge command that the other side does not know',
  'unknown-meter': 'a command for a meter that this worker or fleet does not hold',
} as const;
