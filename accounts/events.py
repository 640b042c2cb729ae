"""Ledger events of accounts, with the model of each payload."""

from lineage.events import Payload, event


class OrgCreated(Payload):
    name: str


class UserCreated(Payload):
    role: str
    org_id: int | None


class Via(Payload):
    via: str  # console or api


class Refused(Via):
    reason: str | None = None  # the class of the refusal (expired, disabled...), never the token


class QualificationSubmitted(Payload):
    qualification_id: int
    credit_code: str  # the organization's public registration code, not a person's
    declaration_chars: int


class QualificationNoticed(Payload):
    qualification_id: int
    notice_until: str
    notice_days: int


class QualificationRejected(Payload):
    qualification_id: int
    during_notice: bool
    comment_chars: int


class QualificationGranted(Payload):
    qualification_id: int


ORG_CREATED = event("org.created", "org", "an organization's first member was added", OrgCreated)
USER_CREATED = event("user.created", "user", "a user was added, with a role", UserCreated)
USER_TOKEN_ROTATED = event("user.token_rotated", "user", "a new API token was issued")
USER_ENABLED = event("user.enabled", "user", "a disabled user was enabled")
USER_DISABLED = event("user.disabled", "user", "a user was disabled")
USER_EMAIL_SET = event("user.email_set", "user",
                       "a user's notice e-mail address was set or removed (never the address)")
USER_PASSWORD_SET = event("user.password_set", "user", "a console password was set")
USER_SIGNED_IN = event("user.signed_in", "user", "a console sign-in", Via)
USER_SIGNED_OUT = event("user.signed_out", "user", "a console sign-out", Via)
AUTH_FAILED = event("auth.failed", "user", "a refused password or API token", Refused)
QUALIFICATION_SUBMITTED = event("qualification.submitted", "org",
                                "an organization applied for qualification as an operator",
                                QualificationSubmitted)
QUALIFICATION_NOTICED = event("qualification.noticed", "org",
                              "its qualification passed review and is publicly noticed",
                              QualificationNoticed)
QUALIFICATION_REJECTED = event("qualification.rejected", "org",
                               "its qualification was rejected (or withdrawn on an objection)",
                               QualificationRejected)
QUALIFICATION_GRANTED = event("qualification.granted", "org",
                              "its public notice ended: the organization is qualified",
                              QualificationGranted)
