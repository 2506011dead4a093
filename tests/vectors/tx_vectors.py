#!/usr/bin/env python3
"""Known-answer vectors for transactions, signature hashes, addresses and the
Merkle tree, written from the format of docs/consensus.md ("Data hash",
"Keys and addresses", "Transaction form", "Transaction id", "Signature hash")
with the Python standard library only; nothing here comes from the C++ code.

    python3 tests/vectors/tx_vectors.py > tests/vectors/tx_vectors.txt

Every value in a transaction is an ASCII string or a non-negative integer, so
json.dumps(sort_keys=True, separators=(",", ":")) is its RFC 8785 canonical form.
The line format is described in tests/vectors/README.md ("tx_vectors.txt")."""
import hashlib
import json
import os

GENESIS = {
    "regtest": "e202ab5c9d9f593d3eab6d447d3e434851a24b5f18c2d981e24e8507d1f62d9d",
    "main": "bfe39aab9065e71a8a1055b290abdf5a6aad5d84a2205500c6d2e5a95b613f89",
}
HRP = {"main": "pow", "regtest": "powrt"}
MAX_MONEY = 21_000_000 * 100_000_000  # 2100000000000000 units


def sha256(b):
    return hashlib.sha256(b).digest()


def tagged_hash(tag, msg):
    t = sha256(tag.encode())
    return sha256(t + t + msg)


# --- Bech32m (BIP 350) -------------------------------------------------------
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32M_CONST = 0x2BC830A3


def polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def hrp_expand(hrp):
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32m_encode(hrp, data):
    pm = polymod(hrp_expand(hrp) + data + [0] * 6) ^ BECH32M_CONST
    checksum = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[d] for d in data + checksum)


def bech32m_verify(s):
    hrp, data = s[: s.rfind("1")], [CHARSET.index(c) for c in s[s.rfind("1") + 1 :]]
    return polymod(hrp_expand(hrp) + data) == BECH32M_CONST


def convertbits(data, frombits, tobits, pad):
    acc, bits, out = 0, 0, []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad and bits:
        out.append((acc << (tobits - bits)) & maxv)
    return out


def address(hrp, key):
    a = bech32m_encode(hrp, [1] + convertbits(key, 8, 5, True))
    assert bech32m_verify(a)
    return a


# --- Merkle tree (RFC 6962 split) --------------------------------------------
def split_point(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = split_point(len(leaves))
    return sha256(b"\x01" + merkle_root(leaves[:k]) + merkle_root(leaves[k:]))


def merkle_proof(leaves, j):
    """Sibling hashes from leaf j up to the root, lowest first."""
    if len(leaves) == 1:
        return []
    k = split_point(len(leaves))
    if j < k:
        return merkle_proof(leaves[:k], j) + [merkle_root(leaves[k:])]
    return merkle_proof(leaves[k:], j - k) + [merkle_root(leaves[:k])]


def root_from_proof(leaf, j, n, proof):
    """Independent walk back up, as a check on merkle_proof."""
    if n == 1:
        assert not proof
        return leaf
    k = split_point(n)
    if j < k:
        left, right = root_from_proof(leaf, j, k, proof[:-1]), proof[-1]
    else:
        left, right = proof[-1], root_from_proof(leaf, j - k, n - k, proof[:-1])
    return sha256(b"\x01" + left + right)


# --- Transactions --------------------------------------------------------------
def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def txid(tx):
    return sha256(canonical(tx).encode())


def sighash(tx, i, genesis_hex):
    unsigned = {**tx, "inputs": [{k: v for k, v in x.items() if k != "sig"} for x in tx["inputs"]]}
    msg = bytes.fromhex(genesis_hex) + sha256(canonical(unsigned).encode()) + i.to_bytes(4, "little")
    return tagged_hash("powchain/sighash", msg), canonical(unsigned)


def load_keys():
    """x-only public keys of the BIP 340 rows that verify (valid keys)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bip340_vectors.csv")
    keys = []
    with open(path, newline="") as f:
        for row in f.read().splitlines()[1:]:
            cols = row.split(",")
            if cols[6] == "TRUE" and cols[2].lower() not in keys:
                keys.append(cols[2].lower())
    return keys[:3]


def fake_sig(n):
    """An arbitrary 64-byte signature (the sighash does not depend on it)."""
    return (sha256(b"sig" + str(n).encode()) + sha256(b"sig'" + str(n).encode())).hex()


def fake_txid(n):
    return sha256(b"prev" + str(n).encode()).hex()


def self_check():
    # BIP 350 "Test vectors": a v1 program (the generator's x) under hrp "bc".
    g = bytes.fromhex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert address("bc", g) == "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"
    # RFC 6962 split points.
    assert [split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]


def main():
    self_check()
    keys = load_keys()
    assert len(keys) == 3
    rt = [address("powrt", bytes.fromhex(k)) for k in keys]
    mn = [address("pow", bytes.fromhex(k)) for k in keys]

    txs = {
        "coinbase": {"coinbase": 1, "inputs": [], "outputs": [{"address": rt[0], "amount": 5_000_000_000}],
                     "version": 1},
        "coinbase_high": {"coinbase": 9007199254740991, "inputs": [],
                          "outputs": [{"address": rt[1], "amount": 1},
                                      {"address": rt[2], "amount": 4_999_999_999}], "version": 1},
        "one_one": {"version": 1, "inputs": [{"txid": fake_txid(1), "vout": 0, "sig": fake_sig(1)}],
                    "outputs": [{"address": rt[1], "amount": 4_999_990_000}]},
        "two_three": {"version": 1,
                      "inputs": [{"txid": fake_txid(2), "vout": 1, "sig": fake_sig(2)},
                                 {"txid": fake_txid(3), "vout": 7, "sig": fake_sig(3)}],
                      "outputs": [{"address": rt[0], "amount": 100_000_000},
                                  {"address": rt[1], "amount": 250_000_000},
                                  {"address": rt[2], "amount": 12_345}]},
        "max_amounts": {"version": 1,
                        "inputs": [{"txid": fake_txid(4), "vout": 4294967295, "sig": fake_sig(4)}],
                        "outputs": [{"address": rt[2], "amount": MAX_MONEY - 1},
                                    {"address": rt[0], "amount": 1}]},
        "max_money": {"version": 1,
                      "inputs": [{"txid": fake_txid(5), "vout": 4294967295, "sig": fake_sig(5)},
                                 {"txid": fake_txid(5), "vout": 0, "sig": fake_sig(6)},
                                 {"txid": fake_txid(6), "vout": 2147483648, "sig": fake_sig(7)}],
                      "outputs": [{"address": rt[1], "amount": MAX_MONEY}]},
        "main_net": {"version": 1, "inputs": [{"txid": fake_txid(7), "vout": 3, "sig": fake_sig(8)}],
                     "outputs": [{"address": mn[0], "amount": 1}, {"address": mn[1], "amount": MAX_MONEY}]},
    }

    out = []
    out.append("# Generated by tests/vectors/tx_vectors.py; see tests/vectors/README.md (tx_vectors.txt).")
    out.append("# address<TAB>hrp<TAB>pubkey<TAB>address")
    for hrp in ("pow", "powrt"):
        for k in keys:
            out.append(f"address\t{hrp}\t{k}\t{address(hrp, bytes.fromhex(k))}")

    out.append("# tx<TAB>name<TAB>canonical<TAB>txid")
    for name, tx in txs.items():
        out.append(f"tx\t{name}\t{canonical(tx)}\t{txid(tx).hex()}")

    out.append("# unsigned<TAB>canonical<TAB>canonical bytes with every input's sig removed")
    out.append("# sighash<TAB>network<TAB>genesis<TAB>canonical<TAB>input<TAB>hash")
    for name, tx in txs.items():
        if "coinbase" in tx:
            continue
        out.append(f"unsigned\t{canonical(tx)}\t{sighash(tx, 0, GENESIS['main'])[1]}")
        for network in ("regtest", "main"):
            for i in range(len(tx["inputs"])):
                h = sighash(tx, i, GENESIS[network])[0].hex()
                out.append(f"sighash\t{network}\t{GENESIS[network]}\t{canonical(tx)}\t{i}\t{h}")

    out.append("# leaf<TAB>i<TAB>SHA-256(b\"leaf\" + str(i))")
    leaves = [sha256(b"leaf" + str(i).encode()) for i in range(9)]
    for i, leaf in enumerate(leaves):
        out.append(f"leaf\t{i}\t{leaf.hex()}")
    out.append("# merkle<TAB>n<TAB>root of leaves 0..n-1")
    for n in range(1, 10):
        out.append(f"merkle\t{n}\t{merkle_root(leaves[:n]).hex()}")
    out.append("# proof<TAB>n<TAB>index<TAB>sibling hashes, lowest first, comma-separated")
    for n in (2, 3, 5, 7):
        for j in range(n):
            proof = merkle_proof(leaves[:n], j)
            assert root_from_proof(leaves[j], j, n, proof) == merkle_root(leaves[:n])
            out.append(f"proof\t{n}\t{j}\t{','.join(p.hex() for p in proof)}")

    out.append("# datahash<TAB>canonical data<TAB>dataHash<TAB>canonical tx (zero or more columns)")
    for data, names in (('"hello"', []), ('"hello"', ["coinbase", "one_one"]),
                        ('{"a":[1,2],"b":"x"}', ["coinbase", "two_three", "max_money"])):
        block_txs = [txs[n] for n in names]
        root = merkle_root([sha256(data.encode())] + [txid(t) for t in block_txs])
        out.append("\t".join(["datahash", data, root.hex()] + [canonical(t) for t in block_txs]))

    print("\n".join(out))


if __name__ == "__main__":
    main()
