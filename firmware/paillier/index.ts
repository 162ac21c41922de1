export {
  createModArith,
  createSquareModArith,
  isXsEngine,
  preferredArithKind,
  preferredSquareArithKind,
  windowBits,
  type ArithKind,
  type ModArith,
  type SquareArithKind,
} from './arith.ts';
export {
  bigIntFromHex,
  bigIntToHex,
  CLASSIC_KEY_VERSION,
  checkCiphertext,
  ciphertextFromBytes,
  ciphertextFromHex,
  ciphertextToBytes,
  ciphertextToHex,
  isCiphertextShaped,
  publicKeyFromJson,
  publicKeyToJson,
  type PublicKeyJson,
} from './codec.ts';
export { deriveKeyId } from './key-id.ts';
export { gcd, modInverse } from './numbers.ts';
export { SlotPacking, type PackingBounds } from './packing.ts';
export { RandomnessPool } from './pool.ts';
export { minExponentBits, PaillierPublicKey, type PublicKeyOptions, type ShortExponentBase } from './public-key.ts';
export { randomBelow, randomBits, randomUnit, type RandomBytes } from './random.ts';
