"""A worker's copy of the witness file: every checkpoint of the database, each once."""

from __future__ import annotations

from accounts.users import add_user
from lineage import verify_ledger
from lineage.ledger import copy_witness, read_witness
from policies import OPERATOR


def test_the_copy_holds_every_checkpoint_once_and_verifies(home, tmp_path):
    copy = tmp_path / "elsewhere" / "witness.jsonl"
    copy.parent.mkdir()
    for index in range(3):
        with home.store.transaction() as s:
            add_user(s, OPERATOR, f"user{index}", "merchant", f"公司{index}")
    with home.store.read() as s:
        assert copy_witness(s, copy) == 3
        assert copy_witness(s, copy) == 0  # nothing new: nothing appended
    with home.store.transaction() as s:
        add_user(s, OPERATOR, "later", "merchant", "公司9")
    with home.store.read() as s:
        assert copy_witness(s, copy) == 1
        held, problems = read_witness(copy)
        assert not problems and len(held) == 4 == len({cp.size for cp in held})
        assert held == read_witness(home.witness_path)[0]
        result = verify_ledger(s, home.genesis_public_key, copy, home.origin)
    assert result.valid and not result.warnings
