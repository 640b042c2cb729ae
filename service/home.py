"""The home directory (TDS_HOME): store, keys, policy, datasets, workspaces, releases."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lineage import Signer, create_keypair, load_signer
from lineage.signing import PRIVATE_NAME, PUBLIC_NAME, load_public
from policies import Policy, default_policy_text, load_policy
from service.errors import NotInitialized
from service.store import Store

POLICY_NAME = "policy.toml"
PSEUDONYM_SECRET_NAME = "pseudonym.secret"
WITNESS_NAME = "ledger-checkpoints.jsonl"


@dataclass
class Home:
    root: Path
    database_url: str | None = None
    passphrase: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, root: str | Path | None = None) -> Home:
        path = Path(root or os.environ.get("TDS_HOME") or ".tds").expanduser().resolve()
        return cls(path, os.environ.get("TDS_DATABASE_URL") or None,
                   os.environ.get("TDS_KEY_PASSPHRASE") or None)

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
    def workspaces(self) -> Path:
        return self.root / "workspaces"

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.root / 'tds.sqlite3'}"

    @property
    def initialized(self) -> bool:
        return (self.keys_dir / PRIVATE_NAME).exists() and self.policy_path.exists()

    def init(self) -> bool:
        """Create what is missing (store, key pair, policy copy); True if anything was new."""
        created = False
        self.root.mkdir(parents=True, exist_ok=True)
        for sub in ("datasets", "workspaces", "releases", "ledger", "scratch"):
            (self.root / sub).mkdir(exist_ok=True)
        if not (self.keys_dir / PRIVATE_NAME).exists():
            create_keypair(self.keys_dir, self.passphrase)
            created = True
        if not self.policy_path.exists():
            self.policy_path.write_text(default_policy_text(), encoding="utf-8")
            created = True
        _ = self.pseudonym_secret
        self.store.migrate()
        return created

    def require_initialized(self) -> Home:
        if not self.initialized:
            raise NotInitialized(
                f"{self.root} is not a TDS home yet: run `tds init` (or set TDS_HOME)"
            )
        return self

    @cached_property
    def policy(self) -> Policy:
        return load_policy(self.policy_path)

    @cached_property
    def signer(self) -> Signer:
        return load_signer(self.keys_dir, self.passphrase)

    @cached_property
    def public_key(self):
        return load_public((self.keys_dir / PUBLIC_NAME).read_bytes())

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

        return LocalPool(self.store.transaction, self.store.read, self.policy, self.root,
                         self.pseudonym_secret, size=size, only=only)

    def run_job(self, job_id: int, timeout: float | None = None):
        """Run a queued job with a one-off pool (or wait for the worker that took it)."""
        from sandbox.pool import wait_for

        with self.pool(size=1, only={job_id}):
            return wait_for(self.store.read, job_id, timeout)

    @cached_property
    def store(self) -> Store:
        return Store(self.url, signer=lambda: self.signer, witness_path=self.witness_path)
