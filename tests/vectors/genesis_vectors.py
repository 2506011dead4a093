#!/usr/bin/env python3
"""Genesis blocks of the two networks, from docs/consensus.md ("Genesis"), with Python only:
the data object is serialized by hand in canonical form (keys sorted, no
spaces; every value is a plain integer or an ASCII string)."""
import hashlib
import json
import struct

GENESIS_TIMESTAMP = 1735689600000  # 2025-01-01T00:00:00Z
NETWORKS = {
    "main": dict(mineRate=3000, initialDifficulty=16),
    "regtest": dict(mineRate=1000, initialDifficulty=8, halvingInterval=150, coinbaseMaturity=10,
                    addressPrefix="powrt"),
}
for name, over in NETWORKS.items():
    data = dict(network=name, mineRate=3000, initialDifficulty=16, minDifficulty=1,
                maxDifficulty=255, maxFutureDriftMs=15000, mtpWindow=11, maxBlockBytes=1048576,
                initialReward=5000000000, halvingInterval=210000, coinbaseMaturity=100,
                addressPrefix="pow")
    data.update(over)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    header = struct.pack("<IQ32s32sQIQ", 1, 0, bytes(32), hashlib.sha256(canonical).digest(),
                         GENESIS_TIMESTAMP, data["initialDifficulty"], 0)
    print(name, canonical.decode(), hashlib.sha256(header).hexdigest())
