"""The policy model: the default policy file, loading and validating a policy."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from policies.errors import PolicyError
from policies.sections import (
    SECTIONS,
    Api,
    Applications,
    Cases,
    Catalog,
    Commerce,
    Disclosure,
    Egress,
    Ledger,
    Notifications,
    OwnData,
    Privacy,
    Sandbox,
    Scan,
    Section,
    Synth,
    Text,
    Web,
    Workers,
)

LEVELS = ("L1", "L2", "L3", "L4")


@dataclass(frozen=True)
class LevelRule:
    label: str
    k_min: int
    reviewers: int
    pseudonymize_pii: bool
    # The epsilon a grant of this level may spend on differentially private jobs in all; 0:
    # none. A grant's budget is that of its most sensitive dataset.
    dp_epsilon: float = 0.0
    # Files holding real data of this level (dataset versions, and the stages, outputs, own
    # tables and egress findings of grants that include such a dataset) are encrypted at rest.
    encrypt_at_rest: bool = False


@dataclass(frozen=True)
class Policy:
    """A validated policy: the levels and one typed section per table of the file
    (:mod:`policies.sections`). ``raw`` keeps the parsed file for display."""

    levels: dict[str, LevelRule]
    applications: Applications
    ledger: Ledger
    catalog: Catalog
    text: Text
    sandbox: Sandbox
    scan: Scan
    synth: Synth
    egress: Egress
    egress_disclosure: Disclosure
    web: Web
    api: Api
    workers: Workers
    notifications: Notifications
    cases: Cases
    commerce: Commerce
    privacy: Privacy
    own_data: OwnData
    raw: dict[str, Any]

    def level(self, name: str) -> LevelRule:
        if name not in self.levels:
            raise PolicyError(f"unknown level {name!r}; expected one of {', '.join(LEVELS)}")
        return self.levels[name]

    def changed(self, section: str, **values: Any) -> Policy:
        """This policy with some settings of one section changed (and checked again)."""
        current: Section = getattr(self, section)
        updated = dataclasses.replace(current, **values)
        updated.check()
        return dataclasses.replace(self, **{section: updated})

    # The settings the domain reads most, by the names it has always used.
    @property
    def max_grant_months(self) -> int:
        return self.applications.max_grant_years * 12

    @property
    def review_working_days(self) -> int:
        return self.applications.review_working_days

    @property
    def amend_working_days(self) -> int:
        return self.applications.amend_working_days

    @property
    def overdue_action(self) -> str:
        return self.applications.overdue_action

    @property
    def deemed_approval_max_level(self) -> str:
        return self.applications.deemed_approval_max_level

    @property
    def attachment_max_bytes(self) -> int:
        return self.applications.attachment_max_bytes

    @property
    def max_grant_years(self) -> int:
        return self.applications.max_grant_years

    @property
    def extra_holidays(self) -> frozenset[dt.date]:
        return frozenset(dt.date.fromisoformat(d) for d in self.applications.extra_holidays)

    @property
    def extra_workdays(self) -> frozenset[dt.date]:
        return frozenset(dt.date.fromisoformat(d) for d in self.applications.extra_workdays)

    @property
    def retention_years(self) -> int:
        return self.ledger.retention_years

    @property
    def max_upload_bytes(self) -> int:
        return self.catalog.max_upload_bytes

    @property
    def max_name_length(self) -> int:
        return self.catalog.max_name_length

    @property
    def max_title_length(self) -> int:
        return self.catalog.max_title_length

    @property
    def scan_sample_rows(self) -> int:
        return self.scan.sample_rows

    @property
    def entity_min_share(self) -> float:
        return self.scan.entity_min_share

    @property
    def scan_threads(self) -> int:
        return self.scan.threads

    @property
    def synth_fit_rows(self) -> int:
        return self.synth.fit_rows

    @property
    def preview_rows(self) -> int:
        return self.synth.preview_rows

    @property
    def pii_fail_share(self) -> float:
        return self.egress.pii_fail_share

    @property
    def cross_border_extra_approvals(self) -> int:
        return self.egress.cross_border_extra_approvals

    @property
    def egress_review_working_days(self) -> int:
        return self.egress.review_working_days

    @property
    def differencing_threshold(self) -> int:
        return self.egress.differencing_threshold


def default_policy_text() -> str:
    return resources.files("policies").joinpath("default.toml").read_text(encoding="utf-8")


def load_policy(path: Path | None = None) -> Policy:
    """Load the policy at ``path`` (the packaged default when None) and validate it."""
    text = default_policy_text() if path is None else _read(path)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"policy file is not valid TOML: {exc}") from exc
    return parse_policy(raw)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc


def parse_policy(raw: dict[str, Any]) -> Policy:
    tables = {"levels", *(s.NAME for s in SECTIONS if "." not in s.NAME)}
    unknown = sorted(set(raw) - tables)
    if unknown:  # a misspelt table would silently leave its settings at their defaults
        raise PolicyError(f"policy file has no table [{unknown[0]}]")
    try:
        levels = {
            name: LevelRule(
                label=str(rule["label"]),
                k_min=_positive(rule["k_min"], f"levels.{name}.k_min"),
                reviewers=_positive(rule["reviewers"], f"levels.{name}.reviewers"),
                pseudonymize_pii=bool(rule.get("pseudonymize_pii", False)),
                dp_epsilon=_epsilon(rule.get("dp_epsilon", 0.0), f"levels.{name}.dp_epsilon"),
                encrypt_at_rest=bool(rule.get("encrypt_at_rest", False)),
            )
            for name, rule in raw["levels"].items()
        }
        egress = raw["egress"]
        policy = Policy(
            levels=levels,
            applications=Applications.parse(raw["applications"]),
            ledger=Ledger.parse(raw["ledger"]),
            catalog=Catalog.parse(raw["catalog"]),
            text=Text.parse(raw.get("text", {})),
            sandbox=Sandbox.parse(raw.get("sandbox", {})),
            scan=Scan.parse(raw["scan"]),
            synth=Synth.parse(raw.get("synth", {})),
            egress=Egress.parse(egress),
            egress_disclosure=Disclosure.parse(egress.get("disclosure", {})),
            web=Web.parse(raw.get("web", {})),
            api=Api.parse(raw.get("api", {})),
            workers=Workers.parse(raw.get("workers", {})),
            notifications=Notifications.parse(raw.get("notifications", {})),
            cases=Cases.parse(raw.get("cases", {})),
            commerce=Commerce.parse(raw.get("commerce", {})),
            privacy=Privacy.parse(raw.get("privacy", {})),
            own_data=OwnData.parse(raw.get("own_data", {})),
            raw=raw,
        )
    except KeyError as exc:
        raise PolicyError(f"policy file lacks the setting {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise PolicyError(f"policy file has a malformed value: {exc}") from exc
    if sorted(policy.levels) != list(LEVELS):
        raise PolicyError(f"policy must define exactly the levels {', '.join(LEVELS)}")
    return policy


def _epsilon(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise PolicyError(f"{name} must be a number from 0 to 100, not {value!r}")
    return float(value)


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PolicyError(f"{name} must be a positive whole number, not {value!r}")
    return value
