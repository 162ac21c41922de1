/**
 * Paillier (g = n + 1) on jsbn, arbitrary precision without BigInt: the baseline a meter
 * would have on an engine without native big integers. Only what the benchmark measures.
 */
import jsbn from 'jsbn';

const { BigInteger } = jsbn;
type Big = InstanceType<typeof BigInteger>;

export function toJsbn(value: bigint): Big {
  return new BigInteger(value.toString(16), 16);
}

export function fromJsbn(value: Big): bigint {
  return BigInt('0x' + value.toString(16));
}

interface PrimeHalf {
  prime: Big;
  square: Big;
  primeMinusOne: Big;
  h: Big;
}

export class JsbnPaillier {
  readonly n: Big;
  readonly nSquared: Big;
  private readonly pHalf: PrimeHalf;
  private readonly qHalf: PrimeHalf;
  private readonly qInverseModP: Big;

  constructor(n: bigint, p: bigint, q: bigint) {
    this.n = toJsbn(n);
    this.nSquared = this.n.multiply(this.n);
    const g = this.n.add(BigInteger.ONE);
    this.pHalf = this.half(toJsbn(p), g);
    this.qHalf = this.half(toJsbn(q), g);
    this.qInverseModP = this.qHalf.prime.modInverse(this.pHalf.prime);
  }

  private half(prime: Big, g: Big): PrimeHalf {
    const square = prime.multiply(prime);
    const primeMinusOne = prime.subtract(BigInteger.ONE);
    const l = g.modPow(primeMinusOne, square).subtract(BigInteger.ONE).divide(prime);
    return { prime, square, primeMinusOne, h: l.modInverse(prime) };
  }

  precomputeRn(r: Big): Big {
    return r.modPow(this.n, this.nSquared);
  }

  /** (1 + mn) r^n mod n^2. */
  encryptWithRn(m: Big, rn: Big): Big {
    return BigInteger.ONE.add(m.multiply(this.n)).multiply(rn).mod(this.nSquared);
  }

  encrypt(m: Big, r: Big): Big {
    return this.encryptWithRn(m, this.precomputeRn(r));
  }

  add(a: Big, b: Big): Big {
    return a.multiply(b).mod(this.nSquared);
  }

  aggregate(ciphertexts: Big[]): Big {
    let acc = BigInteger.ONE;
    for (const c of ciphertexts) acc = acc.multiply(c).mod(this.nSquared);
    return acc;
  }

  decrypt(c: Big): Big {
    const mp = this.decryptHalf(this.pHalf, c);
    const mq = this.decryptHalf(this.qHalf, c);
    const diff = mp.subtract(mq).mod(this.pHalf.prime);
    return mq.add(this.qHalf.prime.multiply(diff.multiply(this.qInverseModP).mod(this.pHalf.prime)));
  }

  private decryptHalf(half: PrimeHalf, c: Big): Big {
    const l = c.modPow(half.primeMinusOne, half.square).subtract(BigInteger.ONE).divide(half.prime);
    return l.multiply(half.h).mod(half.prime);
  }
}
