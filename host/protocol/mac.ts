/**
 * The report MAC (HMAC-SHA256, as firmware/protocol/mac.ts) through OpenSSL: the aggregator's hot
 * path, three per report (the body's digest, the tag, the acknowledgement). Each key is imported
 * once (a KeyObject, kept while its bytes are referenced) and the digest is returned as the Buffer
 * OpenSSL wrote, without a copy.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Mac } from '../../firmware/protocol/mac.ts';

const imported = new WeakMap<Uint8Array, KeyObject>();

function keyObject(key: Uint8Array): KeyObject {
  let k = imported.get(key);
  if (!k) imported.set(key, (k = createSecretKey(key)));
  return k;
}

export const nodeHmacSha256: Mac = (key, message) => createHmac('sha256', keyObject(key)).update(message).digest();
