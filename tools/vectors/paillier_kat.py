#!/usr/bin/env python3
"""Known-answer vectors for the Paillier core, computed with Python's own integers and pow(),
independently of the TypeScript code they test. Decryption here uses lambda and mu (no CRT), so
the CRT path is checked against the textbook one. Short-exponent (Damgard-Jurik-Nielsen)
vectors use hs = (-y^2 mod n)^n mod n^2 for a fixed y and exponents a below 2^ceil(bits/2): the
randomness is hs^a, and the same textbook decryption must recover m.

Usage: python3 tools/vectors/paillier_kat.py < primes.txt > test/vectors/paillier-kat.json
where each input line is "<bits> <p hex> <q hex>"."""
import hashlib
import json
import math
import sys


def key_id(n):
    return hashlib.sha256(n.to_bytes((n.bit_length() + 7) // 8, 'big')).hexdigest()[:16]


def vectors_for(p, q):
    n = p * q
    n2 = n * n
    lam = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    mu = pow((pow(n + 1, lam, n2) - 1) // n, -1, n)
    width = 2 * ((n.bit_length() + 7) // 8)

    def enc(m, r):
        return pow(n + 1, m, n2) * pow(r, n, n2) % n2

    def dec(c):
        return (pow(c, lam, n2) - 1) // n * mu % n

    def hx(c):
        return format(c, 'x').zfill(width * 2)

    rs = [2, 3, 65537, n - 2, (n // 3) | 1]
    rs = [r for r in rs if math.gcd(r, n) == 1]
    ms = [0, 1, 42, 3600000, n - 1]
    encryptions = []
    for i, (m, r) in enumerate(zip(ms, rs)):
        c = enc(m, r)
        assert dec(c) == m
        encryptions.append({'m': str(m), 'r': format(r, 'x'), 'rn': format(pow(r, n, n2), 'x'), 'c': hx(c)})
    y = 5
    hs = pow(n - y * y % n, n, n2)
    exponent_bits = (n.bit_length() + 1) // 2
    short = []
    for m, a in zip(ms, [1, 2, 0xdeadbeef, (1 << exponent_bits) - 1, 1 << (exponent_bits - 1)]):
        c = (1 + m * n) * pow(hs, a, n2) % n2
        assert dec(c) == m
        short.append({'m': str(m), 'a': format(a, 'x'), 'hsa': format(pow(hs, a, n2), 'x'), 'c': hx(c)})
    c1 = int(encryptions[2]['c'], 16)
    c2 = int(encryptions[3]['c'], 16)
    c_sum = c1 * c2 % n2
    return {
        'bits': n.bit_length(),
        'keyId': key_id(n),
        'n': format(n, 'x'),
        'p': format(p, 'x'),
        'q': format(q, 'x'),
        'encryptions': encryptions,
        'shortExponent': {'y': format(y, 'x'), 'hs': format(hs, 'x'), 'exponentBits': exponent_bits, 'encryptions': short},
        'add': {'a': hx(c1), 'b': hx(c2), 'sum': hx(c_sum), 'plain': str(dec(c_sum))},
        'addPlain': {'c': hx(c1), 'k': '1000', 'result': hx(c1 * (1 + 1000 * n) % n2), 'plain': str(dec(c1 * (1 + 1000 * n) % n2))},
        'mulPlain': {'c': hx(c1), 'k': '7', 'result': hx(pow(c1, 7, n2)), 'plain': str(dec(pow(c1, 7, n2)))},
        'rerandomize': {'c': hx(c1), 'r': '5', 'result': hx(c1 * pow(5, n, n2) % n2), 'plain': str(dec(c1 * pow(5, n, n2) % n2))},
    }


def main():
    keys = []
    for line in sys.stdin:
        if line.strip():
            _, p, q = line.split()
            keys.append(vectors_for(int(p, 16), int(q, 16)))
    json.dump({'generator': 'tools/vectors/paillier_kat.py', 'keys': keys}, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
