#!/usr/bin/env python3
"""Known-answer vectors for the wire format (docs/wire-format.md: reports version 2 with the
custodians' authenticators, acknowledgements version 1), built byte by byte with Python's struct
and hmac, independently of firmware/protocol/report.ts.

Usage: python3 tools/vectors/report_vectors.py > test/vectors/wire-v2.json"""
import hashlib
import hmac
import json
import struct
import sys

MAC_KEY = bytes(range(32))
DEVICE_KEY = bytes(range(32, 64))


def ident(s):
    b = s.encode('ascii')
    return struct.pack('>B', len(b)) + b


def seal(body, key=MAC_KEY):
    return body + hmac.new(key, body, hashlib.sha256).digest()


def ack_key(group_id):
    """The (meter, group) acknowledgement key, derived from the meter's device key."""
    return hmac.new(DEVICE_KEY, b'meterveil/v1/ack-key\n' + group_id.encode('ascii'), hashlib.sha256).digest()


def custodian_key(index):
    """The key the meter shares with custodian `index` alone, derived from its device key."""
    return hmac.new(DEVICE_KEY, b'meterveil/v2/custodian-key\n' + str(index).encode('ascii'), hashlib.sha256).digest()


def report(key_id, meter_id, slot, seq, dropped, packed, ciphertext, custodians):
    body = struct.pack('>BB', 2, 1) + bytes.fromhex(key_id) + ident(meter_id)
    body += struct.pack('>IIIBH', slot, seq, dropped, packed, len(ciphertext)) + ciphertext
    digest = hmac.new(b'meterveil/v2/report-digest', body, hashlib.sha256).digest()
    authenticators = b''.join(hmac.new(custodian_key(i), digest, hashlib.sha256).digest() for i in range(1, custodians + 1))
    tail = struct.pack('>B', custodians) + authenticators
    return body + tail + hmac.new(MAC_KEY, digest + tail, hashlib.sha256).digest()


def ack(meter_id, group_id, slot, seq, status):
    body = struct.pack('>BB', 1, 2) + ident(meter_id) + ident(group_id) + struct.pack('>IIB', slot, seq, status)
    return seal(body, ack_key(group_id))


ciphertext = bytes((i * 37 + 11) % 256 for i in range(512))
vectors = {
    'generator': 'tools/vectors/report_vectors.py',
    'macKey': MAC_KEY.hex(),
    'deviceKey': DEVICE_KEY.hex(),
    'custodianKeys': [custodian_key(i).hex() for i in range(1, 4)],
    'reports': [
        {'keyId': '0123456789abcdef', 'meterId': 'meter-0001', 'slot': 29_664_000, 'seq': 1, 'dropped': 0, 'packed': 1,
         'ciphertext': ciphertext.hex(), 'custodians': 3},
        {'keyId': 'fedcba9876543210', 'meterId': 'M.x_9', 'slot': 4_294_967_295, 'seq': 4_000_000_000, 'dropped': 17, 'packed': 4,
         'ciphertext': ciphertext[:16].hex(), 'custodians': 0},
    ],
    'acks': [
        {'meterId': 'meter-0001', 'groupId': 'feeder-north', 'slot': 29_664_000, 'seq': 1, 'status': 0},
        {'meterId': 'M.x_9', 'groupId': 'g2', 'slot': 7, 'seq': 9, 'status': 2},
    ],
}
for r in vectors['reports']:
    r['wire'] = report(r['keyId'], r['meterId'], r['slot'], r['seq'], r['dropped'], r['packed'], bytes.fromhex(r['ciphertext']),
                       r['custodians']).hex()
for a in vectors['acks']:
    a['ackKey'] = ack_key(a['groupId']).hex()
    a['wire'] = ack(a['meterId'], a['groupId'], a['slot'], a['seq'], a['status']).hex()
json.dump(vectors, sys.stdout, indent=1)
sys.stdout.write('\n')
