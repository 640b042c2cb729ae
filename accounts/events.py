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
