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
export { PaillierPublicKey, type PublicKeyOptions } from './public-key.ts';
export { randomBelow, randomUnit, type RandomBytes } from './random.ts';
