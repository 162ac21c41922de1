export { generateKeyPair, KEY_MODES, SUPPORTED_KEY_BITS, type KeyMode, type KeyPair } from './keygen.ts';
export { shortExponentAdmissible, shortExponentBase } from './short-exponent.ts';
export {
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  privateKeyFromJson,
  privateKeyToJson,
  readPrivateKeyFile,
  readPublicKeyFile,
  writeKeyPair,
} from './key-files.ts';
export { PaillierPrivateKey } from './private-key.ts';
export { decryptPacked } from './unpack.ts';
export { createNativeArith, hostPublicKey } from './native-arith.ts';
