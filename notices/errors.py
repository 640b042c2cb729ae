"""Errors of notices."""

from policies.errors import DomainError


class NoticeError(DomainError):
    pass


class MailUnavailable(NoticeError):
    """The mail server could not be reached or refused the message."""

    kind = "unavailable"
