/**
 * Keys at rest: a private key or key share sealed under a passphrase.
 *
 * Key derivation: scrypt with N = 2^17, r = 8, p = 1 (128 MiB, a few tenths of a second here; the
 * OWASP recommendation for scrypt) and a fresh 16-byte salt per file. Encryption: AES-256-GCM with a
 * fresh 12-byte IV per file. Everything but the ciphertext and tag is a readable JSON header (what
 * is sealed, its key id and custodian index, the KDF parameters) and is bound to the ciphertext as
 * associated data, so changing any header field is detected like changing the ciphertext.
 * GCM cannot tell a wrong passphrase from an altered file, so both are one error:
 * 'bad-passphrase-or-tampered'.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { parseJsonObject } from '../../firmware/paillier/codec.ts';

export const SEALED_SCHEME = 'meterveil-sealed';
const VERSION = 1;
const CIPHER = 'aes-256-gcm';
export const SCRYPT_DEFAULTS = { N: 2 ** 17, r: 8, p: 1 } as const;
/** Bounds on parameters read from a file, so that a crafted header cannot demand gigabytes. */
const SCRYPT_LIMITS = { minLogN: 14, maxLogN: 20, maxR: 16, maxP: 4 };
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
export const MIN_PASSPHRASE_LENGTH = 8;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** What the header says about the sealed content; readable without the passphrase. */
export interface SealedDescription {
  /** The scheme of the sealed JSON document, e.g. "paillier" or "paillier-threshold-share". */
  content: string;
  keyId: string;
  /** Custodian index, for shares. */
  index?: number;
}

interface SealedHeader extends SealedDescription {
  scheme: typeof SEALED_SCHEME;
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: typeof CIPHER;
  iv: string;
}

const HEADER_FIELDS = ['scheme', 'version', 'content', 'keyId', 'index', 'kdf', 'cipher', 'iv'];
const BODY_FIELDS = ['ciphertext', 'tag'];

/** The associated data: the header rebuilt field by field in a fixed order, never the file's own bytes. */
function associatedData(header: SealedHeader): Buffer {
  const { scheme, version, content, keyId, index, kdf, cipher, iv } = header;
  const canonical = {
    scheme,
    version,
    content,
    keyId,
    ...(index === undefined ? {} : { index }),
    kdf: { name: kdf.name, N: kdf.N, r: kdf.r, p: kdf.p, salt: kdf.salt },
    cipher,
    iv,
  };
  return Buffer.from(JSON.stringify(canonical), 'utf8');
}

function deriveKey(passphrase: string, salt: Uint8Array, { N, r, p }: ScryptParams): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r * p });
}

function checkScryptParams({ N, r, p }: ScryptParams): void {
  const logN = Math.log2(N);
  const ok =
    Number.isInteger(logN) &&
    logN >= SCRYPT_LIMITS.minLogN &&
    logN <= SCRYPT_LIMITS.maxLogN &&
    Number.isInteger(r) &&
    r >= 1 &&
    r <= SCRYPT_LIMITS.maxR &&
    Number.isInteger(p) &&
    p >= 1 &&
    p <= SCRYPT_LIMITS.maxP;
  if (!ok)
    fail(
      'malformed-sealed-file',
      `scrypt parameters out of bounds (N a power of two from 2^${SCRYPT_LIMITS.minLogN} to 2^${SCRYPT_LIMITS.maxLogN}, r <= ${SCRYPT_LIMITS.maxR}, p <= ${SCRYPT_LIMITS.maxP})`,
    );
}

export function isSealed(obj: Record<string, unknown>): boolean {
  return obj.scheme === SEALED_SCHEME;
}

/** Seals a JSON document (as text); returns the sealed file's text. */
export function seal(
  plaintext: string,
  passphrase: string,
  description: SealedDescription,
  params: ScryptParams = SCRYPT_DEFAULTS,
): string {
  if (typeof passphrase !== 'string' || passphrase.length < MIN_PASSPHRASE_LENGTH) {
    fail('weak-passphrase', `a passphrase must have at least ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  checkScryptParams(params);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const header: SealedHeader = {
    scheme: SEALED_SCHEME,
    version: VERSION,
    ...description,
    kdf: { name: 'scrypt', ...params, salt: bytesToHex(salt) },
    cipher: CIPHER,
    iv: bytesToHex(iv),
  };
  const cipher = createCipheriv(CIPHER, deriveKey(passphrase, salt, params), iv);
  cipher.setAAD(associatedData(header));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const body = { ciphertext: bytesToHex(ciphertext), tag: bytesToHex(cipher.getAuthTag()) };
  return JSON.stringify({ ...header, ...body }, null, 2) + '\n';
}

/** The text as is without a passphrase, sealed with one: what key writers store. */
export function sealedOrPlain(text: string, passphrase: string | undefined, description: SealedDescription): string {
  return passphrase === undefined ? text : seal(text, passphrase, description);
}

function readHeader(obj: Record<string, unknown>): SealedHeader {
  const bad = (what: string) => fail('malformed-sealed-file', what);
  if (obj.scheme !== SEALED_SCHEME) bad(`scheme must be "${SEALED_SCHEME}"`);
  if (obj.version !== VERSION) fail('unsupported-key', `sealed file version must be ${VERSION}`);
  for (const field of Object.keys(obj)) if (![...HEADER_FIELDS, ...BODY_FIELDS].includes(field)) bad(`unknown field "${field}"`);
  if (typeof obj.content !== 'string' || typeof obj.keyId !== 'string') bad('content and keyId must be strings');
  if (obj.index !== undefined && !Number.isInteger(obj.index)) bad('index must be an integer');
  if (obj.cipher !== CIPHER) bad(`cipher must be "${CIPHER}"`);
  const kdf = obj.kdf as Record<string, unknown> | null;
  if (kdf === null || typeof kdf !== 'object' || kdf.name !== 'scrypt') bad('kdf must be scrypt');
  const params = { N: kdf!.N, r: kdf!.r, p: kdf!.p } as ScryptParams;
  checkScryptParams(params);
  if (typeof kdf!.salt !== 'string' || kdf!.salt.length !== SALT_BYTES * 2) bad(`salt must be ${SALT_BYTES} bytes of hex`);
  if (typeof obj.iv !== 'string' || obj.iv.length !== IV_BYTES * 2) bad(`iv must be ${IV_BYTES} bytes of hex`);
  return obj as unknown as SealedHeader;
}

/** Opens a sealed file's text (or parsed object); returns the sealed JSON document as text. */
export function unseal(input: unknown, passphrase: string): string {
  const obj = parseJsonObject(input, 'sealed file');
  const header = readHeader(obj);
  if (typeof obj.tag !== 'string' || obj.tag.length !== TAG_BYTES * 2 || typeof obj.ciphertext !== 'string') {
    fail('malformed-sealed-file', 'ciphertext and a 16-byte tag are required');
  }
  let ciphertext: Uint8Array, tag: Uint8Array, salt: Uint8Array, iv: Uint8Array;
  try {
    [ciphertext, tag, salt, iv] = [obj.ciphertext, obj.tag, header.kdf.salt, header.iv].map((hex) => hexToBytes(hex as string));
  } catch (e) {
    if (e instanceof MeterveilError) fail('malformed-sealed-file', 'ciphertext, tag, salt and iv must be lowercase hex');
    throw e;
  }
  const decipher = createDecipheriv(CIPHER, deriveKey(passphrase, salt, header.kdf), iv);
  decipher.setAAD(associatedData(header));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    return fail('bad-passphrase-or-tampered', 'cannot open the sealed file: the passphrase is wrong or the file was altered');
  }
}

/** The sealed description, readable without the passphrase. */
export function describeSealed(input: unknown): SealedDescription {
  const { content, keyId, index } = readHeader(parseJsonObject(input, 'sealed file'));
  return { content, keyId, ...(index === undefined ? {} : { index }) };
}

/**
 * The key document in a key file's text: the text itself if it is not sealed, else the unsealed
 * text. A sealed file without a passphrase is refused with a hint on how to give one.
 */
export function openKeyText(text: string, passphrase: string | undefined, path: string): string {
  let obj: Record<string, unknown>;
  try {
    obj = parseJsonObject(text, path);
  } catch {
    return text;
  }
  if (!isSealed(obj)) return text;
  if (passphrase === undefined) {
    fail('passphrase-required', `${path} is sealed: give --passphrase-file FILE or set METERVEIL_PASSPHRASE`);
  }
  return unseal(obj, passphrase);
}
