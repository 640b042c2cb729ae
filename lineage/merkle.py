"""A Merkle tree of RFC 6962 / RFC 9162 shape over ledger events: hashes, proofs, verifiers.

leaf = SHA-256(0x00 || event bytes), node = SHA-256(0x01 || left || right); the tree of n
leaves splits at the largest power of two below n. Proof verification follows RFC 9162
sections 2.1.3.2 and 2.1.4.2 step by step: a verifier that skips a step accepts forgeries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from lineage.errors import LedgerError

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(LedgerError):
    """A proof was asked for something the tree cannot prove (index or size out of range)."""

    kind = "invalid"


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(size: int) -> list[tuple[int, int]]:
    """(level, index) of the perfect subtrees a tree of ``size`` leaves is made of, left first."""
    out, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


def root_of(subtrees: list[bytes]) -> bytes:
    """The root from the hashes of the perfect subtrees, left first."""
    if not subtrees:
        return EMPTY_ROOT
    root = subtrees[-1]
    for left in reversed(subtrees[:-1]):
        root = node_hash(left, root)
    return root


class Frontier:
    """The right edge of a growing tree: add leaves, get the nodes each completes."""

    def __init__(self, size: int = 0, subtrees: list[bytes] | None = None) -> None:
        self.size = size
        self.subtrees = list(subtrees or [])  # hashes of perfect_subtrees(size)
        if len(self.subtrees) != len(perfect_subtrees(size)):
            raise LedgerError("the tree's stored right edge does not match its size")

    def add(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append a leaf hash; return every (level, index, hash) node it completes."""
        index = self.size
        made = [(0, index, leaf)]
        node, level = leaf, 0
        while index >> level & 1:
            node = node_hash(self.subtrees.pop(), node)
            level += 1
            made.append((level, index >> level, node))
        self.subtrees.append(node)
        self.size += 1
        return made

    def root(self) -> bytes:
        return root_of(self.subtrees)


Subtree = Callable[[int, int], bytes]  # hash of the tree over leaves [start, end)


def subtree_from_nodes(node: Callable[[int, int], bytes]) -> Subtree:
    """Hash of any RFC 6962 range from stored perfect-subtree nodes ``node(level, index)``."""
    def subtree(start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and start % n == 0:
            return node(n.bit_length() - 1, start // n)
        k = split(n)
        return node_hash(subtree(start, start + k), subtree(start + k, end))
    return subtree


def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 PATH(index, D[0:size])."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    return list(reversed(path))


def consistency_proof(old: int, new: int, subtree: Subtree) -> list[bytes]:
    """RFC 6962 PROOF(old, D[0:new])."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old == new:
        return []
    proof: list[bytes] = []

    def subproof(m: int, start: int, end: int, complete: bool) -> None:
        n = end - start
        if m == n:
            if not complete:
                proof.append(subtree(start, end))
            return
        k = split(n)
        if m <= k:
            subproof(m, start, start + k, complete)
            proof.append(subtree(start + k, end))
        else:
            subproof(m - k, start + k, end, False)
            proof.append(subtree(start, start + k))

    subproof(old, 0, new, True)
    return proof


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does ``proof`` put ``leaf`` at ``index`` of the tree with ``root``?"""
    if not 0 <= index < size or any(len(p) != 32 for p in proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes,
                       proof: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2: is the tree of ``old`` leaves a prefix of the tree of ``new``?"""
    if not 0 < old <= new or any(len(p) != 32 for p in proof):
        return False
    if old == new:
        return not proof and old_root == new_root
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node of the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
