/**
 * Every refusal in meterveil carries a stable, named reason so that callers can count
 * rejections by reason and operators can grep for them. The message explains it to a person.
 */
export class MeterveilError extends Error {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(`${reason}: ${message}`);
    this.reason = reason;
  }
}

// Not `this.name = ...` in the constructor: XS on the device freezes Error.prototype after the
// preload, and assigning over its read-only `name` would throw a TypeError instead of the refusal.
Object.defineProperty(MeterveilError.prototype, 'name', { value: 'MeterveilError', writable: true, configurable: true });

export function fail(reason: string, message: string): never {
  throw new MeterveilError(reason, message);
}
