"""Merkle proofs: against a reference tree, with RFC 6962 edge cases and forgeries refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lineage import merkle as m


def reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 MTH, straight from its recursive definition."""
    if not leaves:
        return m.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = m.split(len(leaves))
    return m.node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


def build(n: int) -> tuple[list[bytes], m.Subtree, m.Frontier]:
    leaves = [m.leaf_hash(f"event {i}".encode()) for i in range(n)]
    nodes: dict[tuple[int, int], bytes] = {}
    tree = m.Frontier()
    for leaf in leaves:
        for level, idx, digest in tree.add(leaf):
            nodes[(level, idx)] = digest
    return leaves, m.subtree_from_nodes(lambda level, idx: nodes[(level, idx)]), tree


def test_known_answer_of_the_empty_tree_and_the_hash_prefixes():
    assert m.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert m.leaf_hash(b"") .hex() == \
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"  # RFC 6962 test vector


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 130), data=st.data())
def test_roots_and_proofs_agree_with_the_reference(n, data):
    leaves, subtree, tree = build(n)
    assert tree.root() == reference_root(leaves)
    index = data.draw(st.integers(0, n - 1))
    proof = m.inclusion_proof(index, n, subtree)
    assert m.verify_inclusion(index, n, leaves[index], proof, tree.root())
    old = data.draw(st.integers(1, n))
    proof = m.consistency_proof(old, n, subtree)
    assert m.verify_consistency(old, n, reference_root(leaves[:old]), tree.root(), proof)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 9, 16, 17, 31, 32, 33])
def test_every_index_of_small_trees_including_the_last(n):
    leaves, subtree, tree = build(n)
    for index in range(n):
        proof = m.inclusion_proof(index, n, subtree)
        assert m.verify_inclusion(index, n, leaves[index], proof, tree.root())
        assert len(proof) <= (n - 1).bit_length()
        # The proof pins the position: the same leaf at any other index fails.
        for other in range(n):
            if other != index:
                assert not m.verify_inclusion(other, n, leaves[index], proof, tree.root())


def test_out_of_range_requests_are_refused_and_never_verify():
    leaves, subtree, tree = build(8)
    with pytest.raises(m.ProofError):
        m.inclusion_proof(8, 8, subtree)
    with pytest.raises(m.ProofError):
        m.consistency_proof(9, 8, subtree)
    proof = m.inclusion_proof(7, 8, subtree)
    assert not m.verify_inclusion(8, 8, leaves[7], proof, tree.root())
    assert not m.verify_inclusion(-1, 8, leaves[7], proof, tree.root())
    assert not m.verify_consistency(0, 8, m.EMPTY_ROOT, tree.root(), [])


def test_forged_proofs_are_refused():
    leaves, subtree, tree = build(13)
    proof = m.inclusion_proof(5, 13, subtree)
    root = tree.root()
    assert not m.verify_inclusion(5, 13, leaves[5], proof[:-1], root)  # a step skipped
    assert not m.verify_inclusion(5, 13, leaves[5], [*proof, proof[-1]], root)  # a step added
    assert not m.verify_inclusion(5, 13, leaves[5], list(reversed(proof)), root)
    assert not m.verify_inclusion(5, 13, leaves[5], [bytes(32), *proof[1:]], root)
    assert not m.verify_inclusion(5, 6, leaves[5], proof, root)  # a size of another shape
    assert not m.verify_inclusion(5, 13, leaves[5], [p[:31] for p in proof], root)


def test_an_inner_node_presented_as_a_leaf_is_refused():
    leaves, subtree, tree = build(8)
    inner = m.node_hash(leaves[0], leaves[1])  # the hash of leaves 0-1
    proof = m.inclusion_proof(0, 8, subtree)[1:]  # the path above that node
    # The signed size (8) pins the depth, so the shortened path fails. (Given a false size of
    # 4 it would pass: sizes come from signed checkpoints, and leaves are hashed from the event
    # bytes by the verifier, with the 0x00 prefix no inner node has.)
    assert not m.verify_inclusion(0, 8, inner, proof, tree.root())
    assert m.leaf_hash(leaves[0] + leaves[1]) != inner


def test_consistency_forgeries_are_refused():
    leaves, subtree, tree = build(20)
    old_root = reference_root(leaves[:6])
    proof = m.consistency_proof(6, 20, subtree)
    assert m.verify_consistency(6, 20, old_root, tree.root(), proof)
    assert not m.verify_consistency(6, 20, reference_root(leaves[:5]), tree.root(), proof)
    assert not m.verify_consistency(6, 20, old_root, tree.root(), proof[:-1])
    assert not m.verify_consistency(7, 20, old_root, tree.root(), proof)
    assert not m.verify_consistency(8, 8, old_root, old_root, [old_root])
