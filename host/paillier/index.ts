export { generateKeyPair, SUPPORTED_KEY_BITS, type KeyPair } from './keygen.ts';
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
