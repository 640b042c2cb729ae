"""Who may do what: one table from each user action to the roles allowed to perform it.

The domain enforces it (:func:`permit`), the API and the console read it for their route guards
(:func:`roles_for`), and the tests walk it as their role matrix. What an allowed role may then see
(its own organization's objects, requests sent to it) is the domain's business, not this table's.
"""

from __future__ import annotations

from enum import StrEnum

from policies.errors import Forbidden
from policies.roles import Actor, Role


class Action(StrEnum):
    """A user action, named ``object.verb``."""

    ACCOUNT_READ = "account.read"
    ACCOUNT_TOKEN = "account.token"
    USER_MANAGE = "user.manage"
    DATASET_READ = "dataset.read"
    DATASET_REGISTER = "dataset.register"
    DATASET_CLASSIFY = "dataset.classify"
    PREVIEW_BUILD = "preview.build"
    APPLICATION_SUBMIT = "application.submit"
    APPLICATION_READ = "application.read"
    APPLICATION_DECIDE = "application.decide"
    APPLICATION_CHECK = "application.check"  # the providing department's check (核查)
    QUALIFICATION_APPLY = "qualification.apply"  # an organization applies to be an operator
    QUALIFICATION_READ = "qualification.read"
    QUALIFICATION_REVIEW = "qualification.review"  # 资格审查, and withdrawal on an objection
    CONSENT_MANAGE = "consent.manage"  # mark a dataset as used with consent; file, withdraw
    CONSENT_READ = "consent.read"
    QUALITY_REPORT = "quality.report"  # a data-quality issue on a dataset version
    QUALITY_READ = "quality.read"
    QUALITY_ANSWER = "quality.answer"
    CASE_OPEN = "case.open"  # an appeal, a complaint or a security incident
    CASE_READ = "case.read"
    CASE_HANDLE = "case.handle"
    PRODUCT_LIST = "product.list"  # register a released product for use or sale (Art. 27)
    PRODUCT_READ = "product.read"
    PRODUCT_WITHDRAW = "product.withdraw"
    PRODUCT_PRICE = "product.price"  # approve or reject a commercial product's price (Art. 29)
    FINANCE_RECORD = "finance.record"  # a sale or a cost of the operator's products
    FINANCE_READ = "finance.read"
    GRANT_READ = "grant.read"
    GRANT_USE = "grant.use"
    GRANT_REVOKE = "grant.revoke"
    JOB_SUBMIT = "job.submit"
    JOB_READ = "job.read"
    JOB_CANCEL = "job.cancel"
    ALERT_MANAGE = "alert.manage"
    EGRESS_REQUEST = "egress.request"
    EGRESS_READ = "egress.read"
    EGRESS_REVIEW = "egress.review"
    EGRESS_VALUES = "egress.values"  # read the values of an output under review
    RELEASE_READ = "release.read"
    RELEASE_DOWNLOAD = "release.download"
    SWEEP = "sweep"
    LEDGER_AUDIT = "ledger.audit"
    LEDGER_MAINTAIN = "ledger.maintain"


ALL_ROLES = frozenset(Role)
_PEOPLE = frozenset({Role.MERCHANT, Role.REVIEWER, Role.ADMIN})  # those with organizations' work
_AUDITORS = frozenset({Role.ADMIN, Role.REGULATOR})  # read the ledger, lineage and reports
_READERS = _PEOPLE | {Role.REGULATOR}  # read organizations' work; the regulator changes nothing

PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.ACCOUNT_READ: ALL_ROLES,
    Action.ACCOUNT_TOKEN: ALL_ROLES,
    Action.USER_MANAGE: frozenset({Role.ADMIN}),
    Action.DATASET_READ: ALL_ROLES,
    Action.DATASET_REGISTER: frozenset({Role.PROVIDER, Role.ADMIN}),
    Action.DATASET_CLASSIFY: frozenset({Role.PROVIDER, Role.ADMIN}),
    Action.PREVIEW_BUILD: frozenset({Role.PROVIDER, Role.ADMIN}),
    Action.APPLICATION_SUBMIT: frozenset({Role.MERCHANT}),
    # Providers read the applications that list their datasets, to check their parts.
    Action.APPLICATION_READ: _READERS | {Role.PROVIDER},
    Action.APPLICATION_DECIDE: frozenset({Role.REVIEWER}),
    Action.APPLICATION_CHECK: frozenset({Role.PROVIDER, Role.ADMIN}),
    Action.QUALIFICATION_APPLY: frozenset({Role.MERCHANT}),
    Action.QUALIFICATION_READ: frozenset({Role.MERCHANT, Role.ADMIN, Role.REGULATOR}),
    Action.QUALIFICATION_REVIEW: frozenset({Role.ADMIN}),
    Action.CONSENT_MANAGE: frozenset({Role.PROVIDER, Role.ADMIN}),
    Action.CONSENT_READ: frozenset({Role.PROVIDER, Role.ADMIN, Role.REGULATOR}),
    Action.QUALITY_REPORT: frozenset({Role.MERCHANT}),
    Action.QUALITY_READ: ALL_ROLES,
    Action.QUALITY_ANSWER: frozenset({Role.PROVIDER, Role.ADMIN}),
    Action.CASE_OPEN: frozenset({Role.MERCHANT, Role.PROVIDER, Role.REVIEWER, Role.ADMIN}),
    Action.CASE_READ: ALL_ROLES,
    Action.CASE_HANDLE: frozenset({Role.ADMIN}),
    Action.PRODUCT_LIST: frozenset({Role.MERCHANT}),
    Action.PRODUCT_READ: _READERS,
    Action.PRODUCT_WITHDRAW: frozenset({Role.MERCHANT, Role.ADMIN}),
    Action.PRODUCT_PRICE: frozenset({Role.ADMIN}),
    Action.FINANCE_RECORD: frozenset({Role.MERCHANT}),
    Action.FINANCE_READ: _AUDITORS | {Role.MERCHANT},
    Action.GRANT_READ: _READERS,
    Action.GRANT_USE: frozenset({Role.MERCHANT}),
    Action.GRANT_REVOKE: frozenset({Role.ADMIN}),
    Action.JOB_SUBMIT: frozenset({Role.MERCHANT}),
    Action.JOB_READ: _READERS,
    Action.JOB_CANCEL: frozenset({Role.MERCHANT, Role.ADMIN}),
    Action.ALERT_MANAGE: frozenset({Role.ADMIN}),
    Action.EGRESS_REQUEST: frozenset({Role.MERCHANT}),
    Action.EGRESS_READ: _READERS,
    Action.EGRESS_REVIEW: frozenset({Role.REVIEWER}),
    Action.EGRESS_VALUES: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.RELEASE_READ: _READERS,
    Action.RELEASE_DOWNLOAD: frozenset({Role.MERCHANT}),
    Action.SWEEP: frozenset({Role.ADMIN}),
    Action.LEDGER_AUDIT: _AUDITORS,
    Action.LEDGER_MAINTAIN: frozenset({Role.ADMIN}),
}


def roles_for(action: Action) -> tuple[Role, ...]:
    """The roles allowed ``action``, in the order of :class:`Role` (for messages and guards)."""
    allowed = PERMISSIONS[action]
    return tuple(r for r in Role if r in allowed)


def allowed(actor: Actor, action: Action) -> bool:
    return actor.role in PERMISSIONS[action]


def permit(actor: Actor, action: Action) -> None:
    """Raise :class:`Forbidden` unless the actor's role may perform ``action``."""
    if not allowed(actor, action):
        names = ", ".join(r.value for r in roles_for(action))
        raise Forbidden("this action needs the role {roles}; you are {role}", roles=names,
                        role=actor.role.value)
