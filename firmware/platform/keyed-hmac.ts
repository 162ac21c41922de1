/**
 * Portable HMAC-SHA256 (@noble/hashes) that derives the keyed inner and outer states once per key
 * and clones them per message: a meter MACs every report and checks every acknowledgement under
 * the same key, and in XS the two saved compressions are a sixth of the MAC's time. Where the
 * platform has a native digest (the device) that is used instead.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Mac, MacStream } from '../protocol/mac.ts';

export function keyedHmacSha256(): Mac {
  const keyed = new WeakMap<Uint8Array, ReturnType<typeof hmac.create>>();
  return (key, message) => {
    let state = keyed.get(key);
    if (!state) {
      state = hmac.create(sha256, key);
      keyed.set(key, state);
    }
    return state.clone().update(message).digest();
  };
}

/** The same keyed states for an HMAC fed in parts: what the XS simulation gives the meter as `macStream`. */
export function keyedHmacSha256Stream(): MacStream {
  const keyed = new WeakMap<Uint8Array, ReturnType<typeof hmac.create>>();
  return (key) => {
    let state = keyed.get(key);
    if (!state) {
      state = hmac.create(sha256, key);
      keyed.set(key, state);
    }
    const running = state.clone();
    return { update: (bytes) => void running.update(bytes), digest: () => running.digest() };
  };
}
