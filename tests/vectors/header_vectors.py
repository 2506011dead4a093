#!/usr/bin/env python3
"""Computes the header known-answer vectors in header_hashes.txt with Python's
struct and hashlib only (no project code). Run: python3 header_vectors.py"""
import hashlib
import struct

# (version, height, lastHash hex, data canonical bytes, timestamp, difficulty, nonce)
CASES = [
    (1, 0, "00" * 32, b'null', 0, 0, 0),
    (1, 1, "11" * 32, b'"hello"', 1735689600000, 16, 42),
    (1, 123456789, "00112233445566778899aabbccddeeff" * 2, b'{"a":[1,2.5,"x"],"b":true}',
     1767225600123, 20, 18446744073709551615),
    (7, 18446744073709551615, "ff" * 32, b'', 18446744073709551615, 4294967295, 1),
]

print("# version height lastHash dataHash timestamp difficulty nonce -> serialized_hex hash")
for version, height, last, data, ts, diff, nonce in CASES:
    data_hash = hashlib.sha256(data).digest()
    header = struct.pack("<IQ32s32sQIQ", version, height, bytes.fromhex(last), data_hash, ts,
                         diff, nonce)
    assert len(header) == 96
    print(version, height, last, data_hash.hex(), ts, diff, nonce, header.hex(),
          hashlib.sha256(header).hexdigest())
