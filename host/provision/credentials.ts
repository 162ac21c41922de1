/**
 * Broker credentials: each party gets a random 256-bit password; the broker stores only a hash.
 * Two hash forms: scrypt (N = 2^14, r = 8, p = 1, 16-byte salt) for meterveil's own users file,
 * and mosquitto's "$7$" form (PBKDF2-SHA512, 101 iterations, 12-byte salt, as mosquitto_passwd
 * writes it) for Debian's mosquitto, and bcrypt at its smallest cost (4) for nats-server, which
 * takes no other hash. The passwords are random, not chosen by people, so the work
 * factor guards against nothing a 256-bit secret needs; it is kept moderate because the broker
 * checks a hash on every connection.
 */
import { pbkdf2Sync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';

const SCRYPT = { N: 2 ** 14, r: 8, p: 1 } as const;
const SCRYPT_SALT_BYTES = 16;
const SCRYPT_HASH_BYTES = 32;
const MOSQUITTO_ITERATIONS = 101;
const MOSQUITTO_SALT_BYTES = 12;
const MOSQUITTO_HASH_BYTES = 64;
const NATS_BCRYPT_COST = 4;

export function freshPassword(): string {
  return bytesToHex(randomBytes(32));
}

/** "scrypt$N$r$p$<salt hex>$<hash hex>". */
export function scryptPasswordHash(password: string): string {
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const hash = scryptSync(password, salt, SCRYPT_HASH_BYTES, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, bytesToHex(salt), bytesToHex(hash)].join('$');
}

export function verifyScryptPasswordHash(password: string, encoded: string): boolean {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') fail('malformed-password-hash', 'expected scrypt$N$r$p$salt$hash');
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (N !== SCRYPT.N || r !== SCRYPT.r || p !== SCRYPT.p) fail('malformed-password-hash', 'unexpected scrypt parameters');
  const expected = hexToBytes(parts[5], 'password hash');
  const actual = scryptSync(password, hexToBytes(parts[4], 'salt'), expected.length, { N, r, p });
  return expected.length === SCRYPT_HASH_BYTES && timingSafeEqual(actual, expected);
}

/** One line of a mosquitto password_file. */
export function mosquittoPasswordLine(user: string, password: string): string {
  const salt = randomBytes(MOSQUITTO_SALT_BYTES);
  const hash = pbkdf2Sync(password, salt, MOSQUITTO_ITERATIONS, MOSQUITTO_HASH_BYTES, 'sha512');
  return `${user}:$7$${MOSQUITTO_ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** nats-server's password form: bcrypt ("$2b$04$..."); 64 hex characters fit within bcrypt's 72 bytes. */
export function natsPasswordHash(password: string): string {
  return bcrypt.hashSync(password, NATS_BCRYPT_COST);
}
