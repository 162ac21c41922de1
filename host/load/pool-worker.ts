/**
 * A randomness worker of the load generator: reads the run's public key and computes `count`
 * fresh r^n (or hs^a) values with its own draws from the system's CSPRNG, posting them in batches
 * as fixed-length big-endian bytes. Nothing here is kept: each value goes to the pool once.
 */
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { readPublicKeyFile } from '../paillier/key-files.ts';

const { publicKeyPath, count, batch } = workerData as { publicKeyPath: string; count: number; batch: number };
const key = readPublicKeyFile(publicKeyPath);
const random = (n: number) => new Uint8Array(randomBytes(n));
let left = count;
while (left > 0) {
  const n = Math.min(batch, left);
  const out = Buffer.alloc(n * key.ciphertextBytes);
  for (let i = 0; i < n; i++) {
    const hex = key
      .precomputeRn(random)
      .toString(16)
      .padStart(key.ciphertextBytes * 2, '0');
    out.write(hex, i * key.ciphertextBytes, 'hex');
  }
  left -= n;
  parentPort!.postMessage(out, [out.buffer]);
}
