"""What every action needs: who acts, sessions, policy, storage, keys, and a dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from lineage.signing import Signer
from policies import Actor, Policy
from storage import Storage


class Sessions(Protocol):
    """The store's two kinds of session: one that commits, one that only reads."""

    def transaction(self) -> AbstractContextManager[Session]: ...

    def read(self, autocommit: bool = False) -> AbstractContextManager[Session]: ...


class Keys(Protocol):
    """The home's keys and ledger identity (:class:`service.home.Home` is one)."""

    @property
    def signer(self) -> Signer: ...

    @property
    def pseudonym_secret(self) -> bytes: ...

    @property
    def genesis_public_key(self) -> Any: ...

    @property
    def public_key(self) -> Any: ...

    @property
    def witness_path(self) -> Path: ...

    @property
    def origin(self) -> str: ...

    @property
    def master_key(self) -> Any: ...  # vault.master.MasterKey: wraps the data keys

    def ledger_archives(self) -> Path: ...

    def rotate_key(self, actor: Actor) -> dict[str, Any]: ...

    def run_job(self, job_id: int, timeout: float | None = None) -> Any: ...


@dataclass
class Dispatcher:
    """What happens after a commit. ``wake``: a job was queued (the API wakes its pool; the
    CLI runs the job itself). ``later``: schedule background work after the response (the API's
    BackgroundTasks); None runs it at once and hands back its result."""

    wake: Callable[[], None] = field(default=lambda: None)
    later: Callable[..., None] | None = None

    def defer(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.later is None:
            return func(*args, **kwargs)
        self.later(func, *args, **kwargs)
        return None


@dataclass(frozen=True)
class SessionPair:
    """:class:`Sessions` from two factories (a worker's runtime has no store object)."""

    transaction: Callable[[], AbstractContextManager[Session]]
    read: Callable[..., AbstractContextManager[Session]]


@dataclass(frozen=True)
class Context:
    actor: Actor
    store: Sessions
    policy: Policy
    data: Storage
    key_source: Keys | None = None  # None: actions that sign or verify are refused
    dispatcher: Dispatcher = field(default_factory=Dispatcher)

    @classmethod
    def of(cls, home: Any, actor: Actor, dispatcher: Dispatcher | None = None) -> Context:
        """The context of ``actor`` acting on a home (anything with store, policy, data and
        the :class:`Keys`)."""
        return cls(actor, home.store, home.policy, home.data, home, dispatcher or Dispatcher())

    @property
    def keys(self) -> Keys:
        if self.key_source is None:
            raise RuntimeError("this context has no keys: build it from a home (Context.of)")
        return self.key_source

    def as_actor(self, actor: Actor) -> Context:
        return Context(actor, self.store, self.policy, self.data, self.key_source,
                       self.dispatcher)

    def transaction(self) -> AbstractContextManager[Session]:
        return self.store.transaction()

    def read(self, autocommit: bool = False) -> AbstractContextManager[Session]:
        return self.store.read(autocommit=autocommit)
