#!/usr/bin/env python3
"""Known-answer vectors for wire format v1 (docs/wire-format.md), built byte by byte with
Python's struct and hmac, independently of firmware/protocol/report.ts.

Usage: python3 tools/vectors/report_vectors.py > test/vectors/wire-v1.json"""
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


def report(key_id, meter_id, slot, seq, dropped, packed, ciphertext):
    body = struct.pack('>BB', 1, 1) + bytes.fromhex(key_id) + ident(meter_id)
    body += struct.pack('>IIIBH', slot, seq, dropped, packed, len(ciphertext)) + ciphertext
    return seal(body)


def ack(meter_id, group_id, slot, seq, status):
    body = struct.pack('>BB', 1, 2) + ident(meter_id) + ident(group_id) + struct.pack('>IIB', slot, seq, status)
    return seal(body, ack_key(group_id))


ciphertext = bytes((i * 37 + 11) % 256 for i in range(512))
vectors = {
    'generator': 'tools/vectors/report_vectors.py',
    'macKey': MAC_KEY.hex(),
    'deviceKey': DEVICE_KEY.hex(),
    'reports': [
        {'keyId': '0123456789abcdef', 'meterId': 'meter-0001', 'slot': 29_664_000, 'seq': 1, 'dropped': 0, 'packed': 1,
         'ciphertext': ciphertext.hex()},
        {'keyId': 'fedcba9876543210', 'meterId': 'M.x_9', 'slot': 4_294_967_295, 'seq': 4_000_000_000, 'dropped': 17, 'packed': 4,
         'ciphertext': ciphertext[:16].hex()},
    ],
    'acks': [
        {'meterId': 'meter-0001', 'groupId': 'feeder-north', 'slot': 29_664_000, 'seq': 1, 'status': 0},
        {'meterId': 'M.x_9', 'groupId': 'g2', 'slot': 7, 'seq': 9, 'status': 2},
    ],
}
for r in vectors['reports']:
    r['wire'] = report(r['keyId'], r['meterId'], r['slot'], r['seq'], r['dropped'], r['packed'], bytes.fromhex(r['ciphertext'])).hex()
for a in vectors['acks']:
    a['ackKey'] = ack_key(a['groupId']).hex()
    a['wire'] = ack(a['meterId'], a['groupId'], a['slot'], a['seq'], a['status']).hex()
json.dump(vectors, sys.stdout, indent=1)
sys.stdout.write('\n')
