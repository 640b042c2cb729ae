"""States of an object's lifecycle and the moves allowed between them, one table per kind.

Each package declares its states as a StrEnum (the stored values stay plain strings) and one
:class:`Lifecycle`; every change of state goes through :meth:`Lifecycle.move`, which refuses a
move the table does not allow with a clear conflict."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from policies.errors import DomainError

S = TypeVar("S", bound=StrEnum)


class MoveRefused(DomainError):
    kind = "conflict"


class Lifecycle(Generic[S]):
    """``moves``: each state and the states it may become (none: a final state)."""

    def __init__(self, noun: str, moves: Mapping[S, Iterable[S]]) -> None:
        self.noun = noun
        self.moves: dict[S, frozenset[S]] = {state: frozenset(to) for state, to in moves.items()}
        unknown = {to for targets in self.moves.values() for to in targets} - set(self.moves)
        if unknown:
            raise ValueError(f"{noun}: moves to undeclared states {sorted(unknown)}")

    @property
    def final(self) -> frozenset[S]:
        return frozenset(state for state, to in self.moves.items() if not to)

    @property
    def open(self) -> frozenset[S]:
        return frozenset(self.moves) - self.final

    def allows(self, current: str, to: str) -> bool:
        return any(to == target for target in self.moves.get(current, ()))  # type: ignore[call-overload]

    def move(self, ident: object, current: str, to: S) -> S:
        """``to``, once the table allows moving there from ``current``; else a conflict that
        names the object and both states."""
        if not self.allows(current, to):
            raise MoveRefused("{noun} {ident} is {current}; it cannot become {to}",
                              noun=self.noun, ident=ident, current=current, to=to.value)
        return to
