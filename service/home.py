"""The home directory (TDS_HOME): store, keys, policy, and by default the data (datasets,
previews, workspaces, releases). With TDS_STORAGE the data lives there instead, where every API
process and worker reaches it: a shared directory, or S3-compatible object storage
(``s3://bucket/prefix?endpoint_override=host:port``, cached on each machine); each machine keeps
its own home."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from lineage.signing import (
    PRIVATE_NAME,
    PUBLIC_NAME,
    Signer,
    create_keypair,
    key_id,
    load_public,
    load_signer,
)
from policies import Policy, default_policy_text, load_policy
from service.errors import NotInitialized

if TYPE_CHECKING:  # the store and storage load when first used, not with the home's paths
    from service.store import Store
    from storage import Storage

POLICY_NAME = "policy.toml"
PSEUDONYM_SECRET_NAME = "pseudonym.secret"
WITNESS_NAME = "ledger-checkpoints.jsonl"
GENESIS_PUBLIC_NAME = "genesis_ed25519.pub.pem"  # the ledger's first key: trust starts here
ORIGIN_NAME = "ledger.origin"


@dataclass
class Home:
    root: Path
    database_url: str | None = None
    passphrase: str | None = field(default=None, repr=False)
    storage: str | Path | None = None  # a directory or an s3:// URI; None: the home itself
    key_file: str | Path | None = None  # a KMS-style master key file (vault.master)

    @classmethod
    def from_env(cls, root: str | Path | None = None) -> Home:
        path = Path(root or os.environ.get("TDS_HOME") or ".tds").expanduser().resolve()
        return cls(path, os.environ.get("TDS_DATABASE_URL") or None,
                   os.environ.get("TDS_KEY_PASSPHRASE") or None,
                   os.environ.get("TDS_STORAGE") or None,
                   os.environ.get("TDS_KEY_FILE") or None)

    @property
    def data(self) -> Storage:
        """Where datasets, previews, workspaces, releases and ledger archives live."""
        cached = self.__dict__.get("_data")
        if cached is None or cached[0] != self.storage:
            from storage import open_storage

            self.__dict__["_data"] = cached = (self.storage, open_storage(self.storage, self.root))
        return cached[1]

    def ledger_archives(self) -> Path:
        """This machine's copy of the ledger's month archives (brought down when stored
        elsewhere)."""
        try:
            return self.data.fetch("ledger")
        except FileNotFoundError:
            return self.data.local("ledger")

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def policy_path(self) -> Path:
        return self.root / POLICY_NAME

    @property
    def witness_path(self) -> Path:
        return self.root / "ledger" / WITNESS_NAME

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.root / 'tds.sqlite3'}"

    @property
    def initialized(self) -> bool:
        return (self.keys_dir / PRIVATE_NAME).exists() and self.policy_path.exists()

    def init(self) -> bool:
        """Create what is missing (store, key pair, policy copy); True if anything was new."""
        created = False
        self.data.check()  # a storage that does not answer leaves no half-made home behind
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "ledger").mkdir(exist_ok=True)
        for sub in ("datasets", "workspaces", "releases", "ledger", "scratch"):
            self.data.local(sub).mkdir(parents=True, exist_ok=True)
        if not (self.keys_dir / PRIVATE_NAME).exists():
            create_keypair(self.keys_dir, self.passphrase)
            created = True
        from vault.master import ensure_home_key

        created = ensure_home_key(self.keys_dir, self.passphrase, self.key_file) or created
        _ = self.origin
        if not self.policy_path.exists():
            self.policy_path.write_text(default_policy_text(), encoding="utf-8")
            created = True
        _ = self.pseudonym_secret
        self.store.migrate()
        return created

    def require_initialized(self) -> Home:
        if not self.initialized:
            raise NotInitialized(
                "{root} is not a TDS home yet: run `tds init` (or set TDS_HOME)", root=self.root
            )
        return self

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.policy_path)

    @property
    def signer(self) -> Signer:
        """The platform key; reloaded when its file changes (another process rotated it)."""
        self._finish_rotation()
        try:
            stamp = os.stat(self._key_files[0])
            version = (stamp.st_ino, stamp.st_mtime_ns)
        except OSError:
            version = None
        cached = self.__dict__.get("_signer")
        if cached is None or cached[0] != version:
            self.__dict__["_signer"] = cached = (version, load_signer(self.keys_dir,
                                                                      self.passphrase))
            self.__dict__.pop("public_key", None)
        return cached[1]

    def rotate_key(self, actor) -> dict:
        """A new platform key: logged, signed by the old key, sealing its own transaction. The
        new key waits in keys/pending until the rotation commits; the old private key is
        destroyed and its public key kept in keys/retired."""
        from lineage.keys import rotate

        old = self.signer
        _ = self.genesis_public_key, self.origin  # pinned before the first key is replaced
        pending = self.keys_dir / "pending"
        shutil.rmtree(pending, ignore_errors=True)
        new = create_keypair(pending, self.passphrase)
        self.__dict__["_rotating"] = True  # the pending key is not stale while this runs
        try:
            with self.store.transaction() as session:
                seq = rotate(session, actor, self.origin, old, new).seq
        except BaseException:
            shutil.rmtree(pending, ignore_errors=True)
            raise
        finally:
            self.__dict__.pop("_rotating", None)
        self._finish_rotation()
        return {"old_key_id": old.key_id, "new_key_id": new.key_id, "seq": seq}

    @cached_property
    def _key_files(self) -> tuple[str, str]:
        """The private key's file and a pending rotation's: looked at before every seal."""
        return (str(self.keys_dir / PRIVATE_NAME), str(self.keys_dir / "pending" / PRIVATE_NAME))

    def _finish_rotation(self) -> None:
        """Promote a pending key whose rotation the ledger holds; drop one it does not."""
        if self.__dict__.get("_rotating") or not os.path.exists(self._key_files[1]):
            return
        pending = self.keys_dir / "pending"
        from sqlalchemy import select

        from lineage import LedgerEvent
        from lineage.keys import ROTATION

        new_id = key_id(load_public((pending / PUBLIC_NAME).read_bytes()))
        with self.store.read() as session:
            logged = session.scalar(select(LedgerEvent.seq).where(
                LedgerEvent.action == ROTATION, LedgerEvent.subject == f"key:{new_id}"))
        if logged is not None:
            retired = self.keys_dir / "retired"
            retired.mkdir(exist_ok=True)
            old_public = (self.keys_dir / PUBLIC_NAME).read_bytes()
            (retired / f"{key_id(load_public(old_public))}.pub.pem").write_bytes(old_public)
            os.replace(pending / PRIVATE_NAME, self.keys_dir / PRIVATE_NAME)
            os.replace(pending / PUBLIC_NAME, self.keys_dir / PUBLIC_NAME)
        shutil.rmtree(pending, ignore_errors=True)
        for name in ("_signer", "public_key"):
            self.__dict__.pop(name, None)

    @cached_property
    def public_key(self):
        return load_public((self.keys_dir / PUBLIC_NAME).read_bytes())

    @property
    def genesis_public_key(self):
        """The key the ledger started with; later keys are trusted through rotation events."""
        path = self.keys_dir / GENESIS_PUBLIC_NAME
        if not path.exists():  # homes made before key rotation existed: the current key
            path.write_bytes((self.keys_dir / PUBLIC_NAME).read_bytes())
        return load_public(path.read_bytes())

    @cached_property
    def origin(self) -> str:
        """The ledger's name in its checkpoints, fixed at creation (survives key rotation)."""
        path = self.keys_dir / ORIGIN_NAME
        if not path.exists():
            path.write_text(f"tds-ledger/{key_id(self.genesis_public_key)}\n", encoding="utf-8")
        return path.read_text(encoding="utf-8").strip()

    @cached_property
    def pseudonym_secret(self) -> bytes:
        """The secret each grant's pseudonym key is derived from (created on first use)."""
        path = self.keys_dir / PSEUDONYM_SECRET_NAME
        if not path.exists():
            self.keys_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
        return path.read_bytes()

    def pool(self, size: int | None = None, only: set[int] | None = None):
        """A local worker pool over this home (not started)."""
        from sandbox.pool import LocalPool

        return LocalPool(self.store.transaction, self.store.read, self.policy, self.data,
                         self.pseudonym_secret, size=size, only=only)

    def run_job(self, job_id: int, timeout: float | None = None):
        """Run a queued job with a one-off pool (or wait for the worker that took it)."""
        from sandbox.pool import wait_for

        with self.pool(size=1, only={job_id}):
            return wait_for(self.store.read, job_id, timeout)

    def runtime(self):
        """What the distributed engine's tasks need of this home (PostgreSQL only)."""
        from workers.tasks import Runtime

        return Runtime(self.url, self.store.transaction, self.store.read, self.policy, self.data,
                       self.pseudonym_secret, self.witness_path)

    @cached_property
    def store(self) -> Store:
        from service.store import Store

        return Store(self.url, signer=lambda: self.signer, witness_path=self.witness_path,
                     origin=lambda: self.origin, master=lambda: self.master_key)

    @cached_property
    def master_key(self):
        """The key that wraps the data keys (vault.master): loaded when first needed, so a
        platform with nothing encrypted runs without one."""
        from vault.master import load

        return load(self.keys_dir, self.passphrase, self.key_file)
