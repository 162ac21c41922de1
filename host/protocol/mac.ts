/** The report MAC (HMAC-SHA256, as firmware/protocol/mac.ts) through OpenSSL: the aggregator's hot path. */
import { createHmac } from 'node:crypto';
import type { Mac } from '../../firmware/protocol/mac.ts';

export const nodeHmacSha256: Mac = (key, message) => new Uint8Array(createHmac('sha256', key).update(message).digest());
