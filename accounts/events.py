"""Ledger events of accounts."""

from lineage.events import event

ORG_CREATED = event("org.created", "org", "an organization's first member was added")
USER_CREATED = event("user.created", "user", "a user was added, with a role")
USER_TOKEN_ROTATED = event("user.token_rotated", "user", "a new API token was issued")
USER_ENABLED = event("user.enabled", "user", "a disabled user was enabled")
USER_DISABLED = event("user.disabled", "user", "a user was disabled")
USER_PASSWORD_SET = event("user.password_set", "user", "a console password was set")
USER_SIGNED_IN = event("user.signed_in", "user", "a console sign-in")
USER_SIGNED_OUT = event("user.signed_out", "user", "a console sign-out")
AUTH_FAILED = event("auth.failed", "user", "a refused password or API token")
