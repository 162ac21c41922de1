/** The host's key files: generation, reading, sealing with a passphrase (host/paillier/, host/keys/, host/start/, docs/keys.md). */
export const hostKeyReasons = {
  'bad-key-size': 'a key size this build does not generate',
  'key-exists': 'a key file that would be overwritten; nothing is written',
  'key-file-unreadable': 'a key file that cannot be read',
  'key-missing': 'a key the command needs that does not exist, or only part of a key set',
  'bad-private-key': 'a private key whose primes do not give its n, differ in length or are equal',
  'passphrase-required': 'a sealed key file opened without --passphrase-file or METERVEIL_PASSPHRASE',
  'passphrase-file-unreadable': 'a passphrase file that cannot be read',
  'empty-passphrase': 'a passphrase file whose first line is empty',
  'weak-passphrase': 'a passphrase shorter than the minimum length',
  'malformed-sealed-file': 'a sealed key file that is not the expected JSON or has out-of-bounds scrypt parameters',
  'bad-passphrase-or-tampered': 'a sealed file that does not open: the passphrase is wrong or the file was altered',
} as const;
