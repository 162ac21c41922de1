/** Refusals of the Paillier arithmetic, the slot packing and the randomness pool (firmware/paillier/). */
export const paillierReasons = {
  'bad-modulus': 'a modulus that is not odd and above 2 (or not the square of one), or an n that is not an odd composite',
  'bad-short-exponent':
    'a short-exponent key whose hs is not a unit modulo n^2 other than 1, or whose exponentBits is outside [ceil(bits/2), bits]',
  'bad-comb-shape': 'a fixed-base comb table asked of a classic key, or with a height or block count out of range',
  'comb-not-ready':
    'a comb table used before it was complete, after it was replaced by another key’s, or with an entry missing from storage',
  'job-unfinished': 'the result of a step-wise exponentiation asked for before its last step',
  'negative-exponent': 'a modular exponentiation asked for a negative exponent',
  'even-modulus': 'an inverse modulo a power of two asked for an even number',
  'not-invertible': 'a value that has no inverse modulo the given modulus',
  'plaintext-out-of-range': 'a plaintext outside [0, n)',
  'bad-packing': 'packing parameters out of bounds: readings not 1..255, or a bound that is not a positive integer',
  'packing-does-not-fit': 'readings × slot bits exceed the usable bits of the key’s n',
  'packed-overflow': 'a decrypted plaintext larger than its packed slots allow: too many summands or a corrupt value',
  'reading-out-of-range': 'a reading outside [0, maxReading] of the packing',
  'wrong-reading-count': 'a report with another number of readings than the packing holds',
  'bad-pool-capacity': 'a randomness pool capacity that is not a positive integer',
  'pool-empty': 'no precomputed encryption randomness left; the meter waits rather than reuse any',
  'bad-random-source': 'a random source that returns the wrong length or keeps producing unusable values',
} as const;
