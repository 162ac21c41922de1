/** Refusals of the codecs for bytes, hex, keys and ciphertexts (firmware/bytes.ts, firmware/paillier/codec.ts). */
export const codecReasons = {
  'malformed-hex': 'hex text that is not lowercase or not of even length',
  'out-of-range': 'an integer outside the range its field can hold (negative, too large for its bytes, or above 2^32-1)',
  'malformed-key': 'a key file or key JSON that is not valid JSON, not an object, or holds badly formed numbers',
  'unsupported-key': 'a key or sealed file of another scheme or version than this build reads',
  'key-id-mismatch': 'a key whose stated key id is not the one derived from its public part',
  'malformed-ciphertext': 'ciphertext text that is not lowercase hex',
  'ciphertext-length': 'a ciphertext that is not exactly the byte length of the key’s n²',
  'ciphertext-out-of-range': 'a ciphertext outside Z*_{n²}: zero, at least n², or sharing a factor with n',
} as const;
