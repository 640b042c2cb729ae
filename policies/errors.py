"""The base of every package's exception hierarchy.

Each domain package subclasses :class:`DomainError` once (``CatalogError``, ``SandboxError``...)
and gives its errors a ``kind``; the shell turns the kind into a CLI exit message or an HTTP
problem response, so domain code never speaks HTTP.
"""

from __future__ import annotations

import errno


class DomainError(Exception):
    """An error a user caused and can act on; ``str(err)`` is its English sentence.

    The sentence is a template with named fields (``"no dataset named {name!r}"``,
    ``name=...``): the shell looks the template up in the reader's language and fills in the
    same fields (:attr:`template`, :attr:`params`), and API clients get both as the problem's
    ``code`` and ``params``."""

    kind = "invalid"  # invalid, not_found, forbidden, conflict, unavailable, storage_full

    def __init__(self, message: str, **params: object) -> None:
        self.template, self.params = message, params
        self.message = message.format(**params) if params else message
        super().__init__(self.message)


class PolicyError(DomainError):
    """The policy file is missing, malformed or inconsistent."""


class Forbidden(PolicyError):
    kind = "forbidden"


def storage_full(exc: OSError) -> bool:
    """Whether a failed write failed for want of space (or quota) on the platform's storage."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc)
