"""Console passwords: Argon2id hashes (argon2-cffi), never the password itself."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from accounts import events
from accounts.errors import InvalidInput
from accounts.users import User, get_user
from lineage import append
from policies import Actor, Policy
from policies.permissions import Action, permit

_hasher = PasswordHasher()
# Verifying against this keeps an unknown user name as slow as a wrong password.
_DUMMY = _hasher.hash("tds-no-such-user")


def set_password(session: Session, actor: Actor, policy: Policy, name: str, password: str) -> User:
    """Set a user's console password (operator or administrator); logged without the password."""
    permit(actor, Action.USER_MANAGE)
    minimum = policy.web.password_min_length
    if len(password) < minimum:
        raise InvalidInput("the password must have at least {minimum} characters", minimum=minimum)
    if password.strip() != password or "\x00" in password:
        raise InvalidInput("the password may not start or end with spaces or hold NUL")
    user = get_user(session, name)
    user.password_hash = _hasher.hash(password)
    append(session, actor, events.USER_PASSWORD_SET, f"user:{user.id}", {})
    return user


def check_password(user: User | None, password: str) -> bool:
    """True if ``password`` is ``user``'s; as slow for a missing user or missing password."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return stored is not _DUMMY
