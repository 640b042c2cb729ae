"""The policy model: the default policy file, loading and validating a policy."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from policies.errors import PolicyError

LEVELS = ("L1", "L2", "L3", "L4")
OVERDUE_ACTIONS = ("deemed_approved", "escalate")


@dataclass(frozen=True)
class LevelRule:
    label: str
    k_min: int
    reviewers: int
    pseudonymize_pii: bool


@dataclass(frozen=True)
class Policy:
    """A validated policy. ``raw`` keeps the parsed file for display."""

    levels: dict[str, LevelRule]
    review_working_days: int
    overdue_action: str
    deemed_approval_max_level: str
    max_grant_years: int
    extra_holidays: frozenset[dt.date]
    extra_workdays: frozenset[dt.date]
    retention_years: int
    max_upload_bytes: int
    max_name_length: int
    max_title_length: int
    sandbox: dict[str, Any]
    scan_sample_rows: int
    entity_min_share: float
    scan_threads: int
    synth_fit_rows: int
    preview_rows: int
    pii_fail_share: float
    cross_border_extra_approvals: int
    egress_review_working_days: int
    differencing_threshold: int
    egress_disclosure: dict[str, Any]
    web: dict[str, Any]
    api: dict[str, Any]
    workers: dict[str, Any]
    raw: dict[str, Any]

    def level(self, name: str) -> LevelRule:
        if name not in self.levels:
            raise PolicyError(f"unknown level {name!r}; expected one of {', '.join(LEVELS)}")
        return self.levels[name]

    @property
    def max_grant_months(self) -> int:
        return self.max_grant_years * 12


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
    try:
        levels = {
            name: LevelRule(
                label=str(rule["label"]),
                k_min=_positive(rule["k_min"], f"levels.{name}.k_min"),
                reviewers=_positive(rule["reviewers"], f"levels.{name}.reviewers"),
                pseudonymize_pii=bool(rule.get("pseudonymize_pii", False)),
            )
            for name, rule in raw["levels"].items()
        }
        apps, ledger, catalog = raw["applications"], raw["ledger"], raw["catalog"]
        scan, egress = raw["scan"], raw["egress"]
        policy = Policy(
            levels=levels,
            review_working_days=_positive(apps["review_working_days"], "review_working_days"),
            overdue_action=str(apps["overdue_action"]),
            deemed_approval_max_level=str(apps.get("deemed_approval_max_level", "L2")),
            max_grant_years=_positive(apps["max_grant_years"], "max_grant_years"),
            extra_holidays=_dates(apps.get("extra_holidays", []), "extra_holidays"),
            extra_workdays=_dates(apps.get("extra_workdays", []), "extra_workdays"),
            retention_years=_positive(ledger["retention_years"], "retention_years"),
            max_upload_bytes=_positive(catalog["max_upload_bytes"], "max_upload_bytes"),
            max_name_length=_positive(catalog["max_name_length"], "max_name_length"),
            max_title_length=_positive(catalog["max_title_length"], "max_title_length"),
            sandbox=_sandbox(raw["sandbox"]),
            scan_sample_rows=_positive(scan["sample_rows"], "scan.sample_rows"),
            entity_min_share=float(scan["entity_min_share"]),
            scan_threads=_positive(scan.get("threads", 2), "scan.threads"),
            synth_fit_rows=_positive(raw.get("synth", {}).get("fit_rows", 50_000),
                                     "synth.fit_rows"),
            preview_rows=_positive(raw.get("synth", {}).get("preview_rows", 5000),
                                   "synth.preview_rows"),
            pii_fail_share=float(egress["pii_fail_share"]),
            cross_border_extra_approvals=int(egress["cross_border_extra_approvals"]),
            egress_review_working_days=_positive(egress.get("review_working_days", 10),
                                                 "egress.review_working_days"),
            differencing_threshold=_positive(egress.get("differencing_threshold", 10),
                                             "egress.differencing_threshold"),
            egress_disclosure=_disclosure(egress.get("disclosure", {})),
            web=_web(raw.get("web", {})),
            api=_api(raw.get("api", {})),
            workers=_workers(raw.get("workers", {})),
            raw=raw,
        )
    except KeyError as exc:
        raise PolicyError(f"policy file lacks the setting {exc.args[0]!r}") from exc
    except (TypeError, ValueError, AttributeError) as exc:
        raise PolicyError(f"policy file has a malformed value: {exc}") from exc
    if sorted(policy.levels) != list(LEVELS):
        raise PolicyError(f"policy must define exactly the levels {', '.join(LEVELS)}")
    if policy.deemed_approval_max_level not in LEVELS:
        raise PolicyError(f"applications.deemed_approval_max_level must be one of {', '.join(LEVELS)}")
    if policy.overdue_action not in OVERDUE_ACTIONS:
        raise PolicyError(f"overdue_action must be one of {', '.join(OVERDUE_ACTIONS)}")
    if policy.retention_years < 5:
        raise PolicyError("ledger retention may not be shorter than 5 years (Measures, art. on logs)")
    if policy.max_grant_years > 5:
        raise PolicyError("grants may not exceed 5 years")
    return policy


_SANDBOX_SIZES = ("memory_limit", "address_space_limit", "max_temp_directory_size")
_SANDBOX_COUNTS = ("threads", "max_execution_seconds", "max_result_rows", "max_result_bytes",
                   "max_simulated_rows_shown", "max_sql_length", "max_expression_depth",
                   "pool_size", "max_attempts", "heartbeat_seconds", "lease_seconds",
                   "placeholder_rows", "spare_delay_seconds", "real_row_band_base", "real_timing_seconds",
                   "real_jobs_per_grant_day", "probe_window", "probe_same_shape", "probe_failures")


def _sandbox(section: dict[str, Any]) -> dict[str, Any]:
    """The sandbox limits; settings a home's older policy file lacks come from the default."""
    merged = {**tomllib.loads(default_policy_text())["sandbox"], **section}
    for key in _SANDBOX_SIZES:
        parse_size(merged[key], f"sandbox.{key}", allow_zero=key == "max_temp_directory_size")
    for key in _SANDBOX_COUNTS:
        _positive(merged[key], f"sandbox.{key}")
    nice = merged["job_nice"]
    if isinstance(nice, bool) or not isinstance(nice, int) or not 0 <= nice <= 19:
        raise PolicyError(f"sandbox.job_nice must be a whole number from 0 to 19, not {nice!r}")
    if merged["real_row_band_base"] < 2:
        raise PolicyError("sandbox.real_row_band_base must be at least 2")
    if merged["lease_seconds"] <= merged["heartbeat_seconds"]:
        raise PolicyError("sandbox.lease_seconds must be longer than sandbox.heartbeat_seconds")
    return merged


def _disclosure(section: dict[str, Any]) -> dict[str, Any]:
    """Disclosure-control rules; settings an older policy file lacks come from the default."""
    merged = {**tomllib.loads(default_policy_text())["egress"]["disclosure"], **section}
    for key in ("min_cell_count", "nk_n", "min_dof", "round_base"):
        _positive(merged[key], f"egress.disclosure.{key}")
    for key in ("nk_k", "p_ratio"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise PolicyError(f"egress.disclosure.{key} must be a share in (0, 1], not {value!r}")
    for key in ("zeros_disclosive", "check_missing_values"):
        if not isinstance(merged[key], bool):
            raise PolicyError(f"egress.disclosure.{key} must be true or false")
    return merged


def _web(section: dict[str, Any]) -> dict[str, Any]:
    """The web console's settings; settings an older policy file lacks come from the default."""
    merged = {**tomllib.loads(default_policy_text())["web"], **section}
    for key in ("idle_minutes", "session_hours", "password_min_length"):
        _positive(merged[key], f"web.{key}")
    try:
        ZoneInfo(str(merged["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyError(f"web.timezone {merged['timezone']!r} is not a known time zone") from None
    if merged["default_language"] not in ("zh_CN", "en"):
        raise PolicyError("web.default_language must be zh_CN or en")
    return merged


def _api(section: dict[str, Any]) -> dict[str, int]:
    """The API's limits; settings an older policy file lacks come from the default."""
    merged = {**tomllib.loads(default_policy_text())["api"], **section}
    return {key: _positive(value, f"api.{key}") for key, value in merged.items()}


def _workers(section: dict[str, Any]) -> dict[str, Any]:
    """The distributed job engine's settings; those an older policy file lacks come from the
    default."""
    merged = {**tomllib.loads(default_policy_text())["workers"], **section}
    for key in ("task_retries", "retry_wait_seconds", "orphan_minutes", "cache_prune_minutes"):
        _positive(merged[key], f"workers.{key}")
    for key in ("recover_cron", "sweep_cron", "grant_expiry_cron", "witness_cron"):
        fields = str(merged[key]).split()
        if len(fields) not in (5, 6) or not croniter.is_valid(str(merged[key])):
            raise PolicyError(f"workers.{key} must be a cron expression of 5 or 6 fields, "
                              f"not {merged[key]!r}")
    return merged


_UNITS = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
          "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}


def parse_size(value: Any, name: str = "size", allow_zero: bool = False) -> int:
    """Bytes of a size written like DuckDB's settings ("2GB", "512MiB") or a whole number."""
    if isinstance(value, int) and not isinstance(value, bool):
        number, unit = value, "B"
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?I?B)\s*", str(value).upper())
        if not match:
            raise PolicyError(f"{name} must be a size like '2GB', not {value!r}")
        number, unit = float(match.group(1)), match.group(2)
    size = int(number * _UNITS[unit])
    if size < 0 or (size == 0 and not allow_zero):
        raise PolicyError(f"{name} must be a positive size, not {value!r}")
    return size


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PolicyError(f"{name} must be a positive whole number, not {value!r}")
    return value


def _dates(values: Any, name: str) -> frozenset[dt.date]:
    try:
        return frozenset(dt.date.fromisoformat(str(v)) for v in values)
    except ValueError as exc:
        raise PolicyError(f"{name} must hold ISO dates (YYYY-MM-DD): {exc}") from exc
