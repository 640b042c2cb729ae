"""Roles and the acting user, shared by every package that checks who may do what."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from policies.errors import Forbidden


class Role(StrEnum):
    PROVIDER = "provider"
    MERCHANT = "merchant"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    # Reads everything an auditor needs (applications, grants, jobs, egress, releases, the
    # ledger, lineage, reports) and changes nothing: the supervising authority.
    REGULATOR = "regulator"


# Roles that act for an organization (applications, jobs and reviews belong to organizations).
ORG_ROLES = frozenset({Role.MERCHANT, Role.REVIEWER})


@dataclass(frozen=True)
class Actor:
    """Who performs an action: a user of the platform, or the platform itself (``system``)."""

    id: int | None
    name: str
    role: Role
    org: str | None = None


SYSTEM = Actor(id=None, name="system", role=Role.ADMIN, org=None)
OPERATOR = Actor(id=None, name="operator", role=Role.ADMIN, org=None)


def require(actor: Actor, *roles: Role) -> None:
    """Raise :class:`Forbidden` unless the actor has one of ``roles``."""
    if actor.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"this action needs the role {allowed}; you are {actor.role.value}")
