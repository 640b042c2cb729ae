"""Data keys: wrapped by the master key, unwrapped only with it, destroyed for good."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from lineage import LedgerEvent, verify_ledger
from service.home import Home
from tests.helpers import refused
from vault import KeyDestroyed, MasterKeyMissing, keys
from vault.files import open_sealed, seal
from vault.master import from_passphrase, load, read_key_file, write_key_file
from vault.models import DataKey


def test_a_key_file_round_trips_and_a_bad_one_is_refused_clearly(tmp_path):
    made = write_key_file(tmp_path / "k.json")
    assert read_key_file(tmp_path / "k.json").kid == made.kid
    assert (tmp_path / "k.json").stat().st_mode & 0o077 == 0
    with pytest.raises(MasterKeyMissing, match="cannot be read"):
        load(tmp_path, None, tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text(json.dumps({"key": "bm90IDMyIGJ5dGVz"}))
    with pytest.raises(MasterKeyMissing, match="not 32 bytes"):
        read_key_file(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(MasterKeyMissing, match="not a key file"):
        read_key_file(tmp_path / "junk.json")
    with pytest.raises(MasterKeyMissing, match="TDS_KEY_FILE"):
        load(tmp_path / "empty", None, None)


def test_a_passphrase_gives_the_same_key_with_the_homes_salt_and_another_elsewhere(tmp_path):
    one = from_passphrase("correct horse", tmp_path / "a")
    assert from_passphrase("correct horse", tmp_path / "a").kid == one.kid
    assert from_passphrase("correct horse", tmp_path / "b").kid != one.kid
    assert from_passphrase("wrong horse", tmp_path / "a").kid != one.kid


def test_data_keys_are_stored_wrapped_and_their_life_is_in_the_ledger(home):
    with home.store.transaction() as s:
        key = keys.create(s, "grant", 41)
        assert keys.create(s, "grant", 41) == key  # one key per scope
    with home.store.read() as s:
        assert keys.get(s, "grant", 41) == key
        assert keys.get(s, "grant", 42) is None  # no key: the scope's files are plain
        row = s.scalar(select(DataKey).where(DataKey.scope_id == 41))
        assert key.hex() not in row.wrapped and key not in row.wrapped.encode()
        assert row.master_kid == home.master_key.kid
    with home.store.transaction() as s:
        keys.destroy(s, "grant", 41, "grant revoked")
    with home.store.read() as s, pytest.raises(KeyDestroyed, match="destroyed on"):
        keys.get(s, "grant", 41)
    with home.store.read() as s:
        row = s.scalar(select(DataKey).where(DataKey.scope_id == 41))
        assert row.wrapped is None and row.destroyed_at is not None
        fingerprint = row.fingerprint
        events = [(e.action, json.loads(e.payload)) for e in s.scalars(
            select(LedgerEvent).where(LedgerEvent.subject == f"data_key:{row.id}")
            .order_by(LedgerEvent.seq))]
    assert [a for a, _ in events] == ["key.created", "key.destroyed"]
    assert events[1][1] == {"scope": "grant", "scope_id": 41, "fingerprint": fingerprint,
                            "reason": "grant revoked"}
    assert key.hex() not in json.dumps([p for _, p in events])
    with home.store.read() as s:
        assert verify_ledger(s, home.genesis_public_key, home.witness_path, home.origin).valid


def test_another_master_key_cannot_unwrap_and_says_which_it_needs(home, tmp_path):
    with home.store.transaction() as s:
        keys.create(s, "dataset", 7)
    other = Home(home.root, home.database_url, None, key_file=tmp_path / "other.json")
    write_key_file(tmp_path / "other.json")
    with other.store.read() as s, pytest.raises(MasterKeyMissing) as caught:
        keys.get(s, "dataset", 7)
    assert home.master_key.kid in str(caught.value) and "TDS_KEY_FILE" in str(caught.value)
    other.store.dispose()


def test_a_store_without_master_key_refuses_and_changes_nothing(home):
    (home.keys_dir / "master.key").unlink()
    bare = Home(home.root, home.database_url, None)
    with refused(bare, "no master key"), bare.store.transaction() as s:
        keys.create(s, "dataset", 9)
    bare.store.dispose()


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2048), label=st.text(max_size=40), flip=st.integers(0, 4000))
def test_an_envelope_opens_only_with_its_key_and_label_and_untouched(data, label, flip):
    key, other = b"k" * 32, b"o" * 32
    blob = seal(data, key, label)
    assert len(data) < 16 or data not in blob
    assert open_sealed(blob, key, label) == data
    with pytest.raises(Exception, match="cannot be decrypted"):
        open_sealed(blob, other, label)
    with pytest.raises(Exception, match="cannot be decrypted"):
        open_sealed(blob, key, label + "x")
    with pytest.raises(Exception, match="no key"):
        open_sealed(blob, None, label)
    at = 8 + flip % (len(blob) - 8)
    tampered = blob[:at] + bytes([blob[at] ^ 1]) + blob[at + 1:]
    with pytest.raises(Exception, match="cannot be decrypted"):
        open_sealed(tampered, key, label)


def test_the_master_key_rotates_by_rewrapping_every_live_key(home, tmp_path):
    with home.store.transaction() as s:
        kept = keys.create(s, "dataset", 1)
        keys.create(s, "grant", 2)
        keys.destroy(s, "grant", 2, "grant expired")
    new = write_key_file(tmp_path / "new.json")
    with home.store.transaction() as s:
        done = [(r.scope, r.scope_id) for r in keys.rewrap(s, new)]
    assert done == [("dataset", 1)]  # a destroyed key stays destroyed
    rotated = Home(home.root, home.database_url, None, key_file=tmp_path / "new.json")
    with rotated.store.read() as s:
        assert keys.get(s, "dataset", 1) == kept
    with home.store.read() as s, pytest.raises(MasterKeyMissing, match=new.kid):
        keys.get(s, "dataset", 1)  # the old master key no longer opens it
    rotated.store.dispose()
