/**
 * Every refusal in meterveil carries a stable, named reason so that callers can count
 * rejections by reason and operators can grep for them. The message explains it to a person.
 * The reasons are catalogued (firmware/reasons/, host/reasons/, docs/reasons.md): fail() takes
 * only a catalogued reason, so a misspelt one does not compile.
 */
import type { FirmwareReason } from './reasons/index.ts';

/**
 * The catalogued reasons, by name. firmware/ imports nothing outside itself, so the host's
 * catalogues join this interface by declaration merging in host/reasons/index.ts.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by its extends clause and by merging
export interface ReasonRegistry extends Record<FirmwareReason, string> {}

export type Reason = keyof ReasonRegistry & string;

export class MeterveilError extends Error {
  readonly reason: Reason;

  constructor(reason: Reason, message: string) {
    super(`${reason}: ${message}`);
    // Compiled to ES5 (the Espruino bundle), super() is Error.call(this), which returns a new plain
    // Error: without this, `instanceof MeterveilError` would be false there and no refusal caught.
    Object.setPrototypeOf(this, new.target.prototype);
    this.reason = reason;
  }
}

// Not `this.name = ...` in the constructor: XS on the device freezes Error.prototype after the
// preload, and assigning over its read-only `name` would throw a TypeError instead of the refusal.
Object.defineProperty(MeterveilError.prototype, 'name', { value: 'MeterveilError', writable: true, configurable: true });

export function fail(reason: Reason, message: string): never {
  throw new MeterveilError(reason, message);
}
