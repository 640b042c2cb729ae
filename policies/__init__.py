"""Policy model, the default policy file, roles, and the shared error base."""

from policies.errors import DomainError, Forbidden, PolicyError, storage_full
from policies.model import (
    LEVELS,
    LevelRule,
    Policy,
    default_policy_text,
    load_policy,
)
from policies.roles import OPERATOR, SYSTEM, Actor, Role, require
from policies.sections import parse_size

__all__ = [
    "LEVELS", "OPERATOR", "SYSTEM", "Actor", "DomainError", "Forbidden", "LevelRule", "Policy",
    "PolicyError", "Role", "default_policy_text", "load_policy", "parse_size", "require",
    "storage_full",
]
