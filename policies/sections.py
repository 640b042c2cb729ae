"""The policy's sections as typed, frozen records: each setting with its type, default, unit and
help, declared once. Parsing, the default file's test and docs/policy.md all read them.

A section is also a read-only mapping of its settings (``dict(policy.sandbox)``), the form the
job processes receive and the disclosure rules are written in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from policies.errors import PolicyError


def setting(default: Any, help: str, unit: str = "", kind: str = "", required: bool = False,
            minimum: float | None = None, maximum: float | None = None) -> Any:
    """A policy setting. ``kind``: how to check it beyond its type (size, cron, zone, share,
    dates, choice:a|b); ``required``: a policy file must state it (it is a rule of the Measures
    or of the platform's operators, never silently defaulted); ``minimum`` defaults to 1 for
    whole numbers."""
    default = tuple(default) if isinstance(default, list) else default
    return field(default=default, metadata={"help": help, "unit": unit, "kind": kind,
                                            "required": required, "minimum": minimum,
                                            "maximum": maximum})


@dataclass(frozen=True)
class Section(Mapping[str, Any]):
    NAME: ClassVar[str] = ""

    def __getitem__(self, key: str) -> Any:
        if key not in self.names():
            raise KeyError(key)
        value = getattr(self, key)
        return list(value) if isinstance(value, tuple) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def settings(cls) -> tuple[dataclasses.Field, ...]:
        return dataclasses.fields(cls)

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Section:
        """The section from a policy file's table: unknown settings and wrong types refused,
        missing optional settings defaulted, then the section's own rules checked."""
        if not isinstance(raw, Mapping):
            raise PolicyError(f"[{cls.NAME}] must be a table of settings")
        known = set(cls.names())
        unknown = sorted(set(raw) - known - set(cls.SUBSECTIONS))
        if unknown:
            raise PolicyError(f"[{cls.NAME}] has no setting {unknown[0]!r}")
        values = {}
        for f in cls.settings():
            if f.name not in raw:
                if f.metadata["required"]:
                    raise PolicyError(f"policy file lacks the setting {f.name!r}")
                values[f.name] = f.default
                continue
            values[f.name] = _checked(raw[f.name], f, f"{cls.NAME}.{f.name}")
        section = cls(**values)
        section.check()
        return section

    SUBSECTIONS: ClassVar[tuple[str, ...]] = ()

    def check(self) -> None:
        """Rules across settings of the section."""


def _checked(value: Any, f: dataclasses.Field, name: str) -> Any:
    kind, default = f.metadata["kind"], f.default
    low, high = f.metadata["minimum"], f.metadata["maximum"]
    if kind == "size":
        parse_size(value, name, allow_zero=low == 0)
        return value
    if kind == "cron":
        text = str(value)
        if len(text.split()) not in (5, 6) or not croniter.is_valid(text):
            raise PolicyError(f"{name} must be a cron expression of 5 or 6 fields, not {value!r}")
        return text
    if kind == "zone":
        try:
            ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyError(f"{name} {value!r} is not a known time zone") from None
        return str(value)
    if kind == "dates":
        try:
            return tuple(sorted(dt.date.fromisoformat(str(v)).isoformat() for v in value))
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"{name} must hold ISO dates (YYYY-MM-DD): {exc}") from exc
    if kind.startswith("choices:"):  # a list, each of the choices, none twice
        choices = kind.removeprefix("choices:").split("|")
        if isinstance(value, str) or not isinstance(value, list | tuple) \
                or any(v not in choices for v in value) or len(set(value)) != len(value):
            raise PolicyError(f"{name} must be a list of {', '.join(choices)} (each once), "
                              f"not {value!r}")
        return tuple(value)
    if kind.startswith("choice:"):
        choices = kind.removeprefix("choice:").split("|")
        if value not in choices:
            raise PolicyError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
        return value
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise PolicyError(f"{name} must be true or false")
        return value
    if isinstance(default, int):
        minimum = 1 if low is None else low
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum \
                or (high is not None and value > high):
            if minimum == 1 and high is None:
                raise PolicyError(f"{name} must be a positive whole number, not {value!r}")
            span = f"from {minimum:g} to {high:g}" if high is not None else f"of at least {minimum:g}"
            raise PolicyError(f"{name} must be a whole number {span}, not {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PolicyError(f"{name} must be a number, not {value!r}")
        if kind == "share":
            positive = f.name in _OPEN_SHARES
            if not (0 < value <= 1 if positive else 0 <= value <= 1):
                span = "(0, 1]" if positive else "[0, 1]"
                raise PolicyError(f"{name} must be a share in {span}, not {value!r}")
        return float(value)
    if isinstance(default, str):
        return str(value)
    if isinstance(default, tuple):
        if isinstance(value, str) or not isinstance(value, list | tuple) \
                or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"{name} must be a list of texts, not {value!r}")
        return tuple(value)
    return value


# Shares that may not be zero (a rule of zero would refuse or pass everything).
_OPEN_SHARES = {"nk_k", "p_ratio"}

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


# The standard operation agreement (格式协议, Measures Art. 17-23) of a grant, filled in from it.
AGREEMENT = """公共数据授权运营协议

授权对象：{org}
应用场景：{scenario}
授权数据（数据集与字段）：{datasets}
拟开发的产品和服务：{products}
授权期限：{start} 至 {end}

一、数据商仅在可信数据沙箱内、仅就上述场景使用上述数据，不得导出原始数据；产品和服务须经出域核查并由审核人员签署后方可出域。
二、数据商应落实数据安全责任：保护账号与令牌，不得尝试识别个人、不得超出授权范围访问数据，发现安全事件应立即报告。
三、涉及个人信息的，数据商应确保其已匿名化处理；涉及商业秘密的，不得泄露。
四、平台对全过程留存日志不少于五年，并依法公开授权情况和产品信息。
五、数据商违反本协议、超出授权范围使用数据或发生安全事件的，平台可以暂停或撤销授权；授权期满或撤销后，平台删除数据商在沙箱中留存的数据，日志依法保留。
"""


AGREEMENT_FIELDS = ("org", "scenario", "datasets", "products", "start", "end")


# What an application's attachments may be: the application letter (申请函), the merchant's
# commitment (承诺书), or other supporting material.
ATTACHMENT_KINDS = ("letter", "commitment", "other")


@dataclass(frozen=True)
class Applications(Section):
    NAME = "applications"
    review_working_days: int = setting(10, "deadline to decide an application", "working days",
                                       required=True)
    overdue_action: str = setting("deemed_approved", "what an overdue application becomes",
                                  kind="choice:deemed_approved|escalate", required=True)
    deemed_approval_max_level: str = setting(
        "L2", "silence never approves access to data above this level or to raw identifiers: "
        "such an overdue application escalates", kind="choice:L1|L2|L3|L4")
    amend_working_days: int = setting(10, "time a merchant has to amend an application a "
                                      "reviewer returned; after it the application is "
                                      "withdrawn", "working days", required=True)
    max_grant_years: int = setting(5, "longest grant a merchant may request", "years",
                                   required=True)
    qualified_only: bool = setting(
        False, "only organizations whose qualification passed review and its public notice "
        "may apply for data (Art. 20-21); turn on once the existing operators are onboarded")
    qualification_notice_days: int = setting(
        5, "public notice of an approved qualification before it takes effect (Art. 20: at "
        "least 5)", "days")
    provider_check: bool = setting(
        True, "two-level review: the providing department of each listed dataset checks its part "
        "of an application before the platform's reviewer may approve it")
    required_attachments: tuple[str, ...] = setting(
        ("letter", "commitment"), "materials an application must carry before it is approved: "
        "the application letter and the merchant's commitment", kind="choices:" + "|".join(ATTACHMENT_KINDS))
    attachment_max_bytes: int = setting(20 * 1024**2, "largest attachment a merchant may "
                                        "upload", "bytes")
    attachment_types: tuple[str, ...] = setting(
        (".pdf", ".ofd", ".png", ".jpg", ".jpeg"), "file types an attachment may have",
        "file suffixes")
    agreement: str = setting(
        AGREEMENT, "the standard operation agreement a merchant accepts before it uses a "
        "grant; the organization, scenario, datasets, products and term are filled in from "
        "the grant where the text names them in braces")
    extra_holidays: tuple[str, ...] = setting((), "holidays the calendar package does not know",
                                              "ISO dates", kind="dates")
    extra_workdays: tuple[str, ...] = setting((), "make-up working days (weekend days worked in "
                                              "exchange for a holiday) it does not know",
                                              "ISO dates", kind="dates")

    def check(self) -> None:
        if self.max_grant_years > 5:
            raise PolicyError("grants may not exceed 5 years")
        if self.qualification_notice_days < 5:
            raise PolicyError("applications.qualification_notice_days may not be under 5 "
                              "(Art. 20)")
        try:
            self.agreement.format(**{k: "" for k in AGREEMENT_FIELDS})
        except (KeyError, IndexError, ValueError) as exc:
            raise PolicyError("applications.agreement may use only the fields "
                              f"{', '.join(AGREEMENT_FIELDS)} in braces ({exc!r})") from None
        if not self.agreement.strip():
            raise PolicyError("applications.agreement may not be empty")
        bad = [t for t in self.attachment_types
               if not isinstance(t, str) or not re.fullmatch(r"\.[a-z0-9]{1,8}", t)]
        if bad or not self.attachment_types:
            raise PolicyError("applications.attachment_types must list lower-case file suffixes "
                              f"such as \".pdf\", not {bad[0] if bad else '[]'!r}")


@dataclass(frozen=True)
class Ledger(Section):
    NAME = "ledger"
    retention_years: int = setting(5, "how long ledger events are kept before they may be "
                                   "purged", "years", required=True)

    def check(self) -> None:
        if self.retention_years < 5:
            raise PolicyError("ledger retention may not be shorter than 5 years "
                              "(Measures, art. on logs)")


@dataclass(frozen=True)
class Catalog(Section):
    NAME = "catalog"
    max_upload_bytes: int = setting(2_000_000_000, "largest file a provider may upload",
                                    "bytes", required=True)
    max_name_length: int = setting(63, "longest dataset name", "characters", required=True)
    max_title_length: int = setting(200, "longest dataset title", "characters", required=True,
                                    maximum=200)
    max_consent_rows: int = setting(
        1_000_000, "most consent records one upload may hold (a dataset used with consent)",
        "records")
    quality_answer_working_days: int = setting(
        5, "a providing department answers a reported data-quality issue within this",
        "working days")
    quality_fix_working_days: int = setting(
        20, "an acknowledged data-quality issue is fixed (a new version) within this, counted "
        "from the report", "working days")

    def check(self) -> None:
        if self.quality_fix_working_days < self.quality_answer_working_days:
            raise PolicyError("catalog.quality_fix_working_days may not be shorter than "
                              "quality_answer_working_days")


@dataclass(frozen=True)
class Text(Section):
    """How long the free text people write may be. Names fill columns 200 characters wide, so
    their limit may not exceed that; the rest are stored as unbounded text."""
    NAME = "text"
    name_length: int = setting(200, "longest name of a scenario or a product", "characters",
                               maximum=200)
    long_length: int = setting(5000, "longest description, purpose, intended products, "
                               "comment or justification of an exception", "characters",
                               maximum=1_000_000)
    reason_length: int = setting(2000, "longest reason (revoking a grant, withdrawing a request, "
                                 "overriding a check) or comment on one review point",
                                 "characters", maximum=1_000_000)


@dataclass(frozen=True)
class Sandbox(Section):
    NAME = "sandbox"
    memory_limit: str = setting("2GB", "DuckDB's memory_limit per job (soft)", "size",
                                kind="size")
    address_space_limit: str = setting("8GB", "RLIMIT_AS of a job process (hard)", "size",
                                       kind="size")
    threads: int = setting(2, "DuckDB threads per job")
    max_execution_seconds: int = setting(300, "a job running longer is stopped", "seconds")
    max_temp_directory_size: str = setting("4GB", "DuckDB spill space per job (\"0GB\": none)",
                                           "size", kind="size", minimum=0)
    max_result_rows: int = setting(10_000_000, "rows a job's output may have", "rows")
    max_result_bytes: int = setting(2_000_000_000, "size of a job's output file (or of a "
                                    "result shown in memory)", "bytes")
    max_simulated_rows_shown: int = setting(200, "rows of a simulated result shown", "rows")
    max_sql_length: int = setting(100_000, "longest SQL statement accepted", "characters")
    max_expression_depth: int = setting(200, "nesting of parentheses the statement gate "
                                        "accepts")
    pool_size: int = setting(2, "job processes the local pool runs at once")
    job_nice: int = setting(10, "scheduling priority of job processes: the API answers first",
                            "nice", minimum=0, maximum=19)
    max_attempts: int = setting(2, "a job whose worker died is re-queued until this many "
                                "attempts")
    heartbeat_seconds: int = setting(2, "how often a worker confirms it still runs its jobs",
                                     "seconds")
    lease_seconds: int = setting(30, "a running job whose worker was silent this long is "
                                 "recovered", "seconds")
    placeholder_rows: int = setting(5000, "rows of the schema-only placeholder used as "
                                    "simulated data", "rows")
    spare_delay_seconds: int = setting(1, "a warm process for the next job starts once the "
                                       "running job has run this long", "seconds")
    memory_dir: str = setting("/dev/shm", "a memory file system (tmpfs) where real jobs of "
                              "grants encrypted at rest keep their stage, spill and output "
                              "decrypted (\"\": none, they scan an encrypted stage on disk)")
    real_row_band_base: int = setting(10, "a real output's row count shows as a band "
                                      "[base^n, base^(n+1))", minimum=2)
    real_timing_seconds: int = setting(10, "a real job's duration and times show rounded to "
                                       "this", "seconds")
    real_jobs_per_grant_day: int = setting(100, "real-data jobs a grant may submit per "
                                           "calendar day", "jobs")
    probe_window: int = setting(20, "probing alerts look at the grant's latest real-data "
                                "jobs", "jobs")
    probe_same_shape: int = setting(8, "alert when this many of them are the same SQL but for "
                                    "its literals", "jobs")
    probe_failures: int = setting(8, "alert when this many of them failed", "jobs")

    def check(self) -> None:
        if self.lease_seconds <= self.heartbeat_seconds:
            raise PolicyError("sandbox.lease_seconds must be longer than "
                              "sandbox.heartbeat_seconds")


@dataclass(frozen=True)
class Scan(Section):
    NAME = "scan"
    sample_rows: int = setting(20_000, "rows sampled per column by a default scan", "rows",
                               required=True)
    entity_min_share: float = setting(0.3, "share of non-null values that makes an entity a "
                                      "column's entity", "share", kind="share", required=True)
    threads: int = setting(2, "columns scanned at once")


@dataclass(frozen=True)
class Synth(Section):
    NAME = "synth"
    fit_rows: int = setting(50_000, "rows sampled to fit a preview's model", "rows")
    preview_rows: int = setting(5000, "rows of each catalog preview (the simulated target's "
                                "data)", "rows")


@dataclass(frozen=True)
class Disclosure(Section):
    NAME = "egress.disclosure"
    min_cell_count: int = setting(10, "contributors a cell needs (ACRO safe_threshold)",
                                  "contributors")
    nk_n: int = setting(2, "the n largest contributions ... (safe_nk_n)")
    nk_k: float = setting(0.9, "... may not make this share of a cell's total (safe_nk_k)",
                          "share", kind="share")
    p_ratio: float = setting(0.1, "the rest must be at least this share of the largest "
                             "(safe_pratio_p)", "share", kind="share")
    zeros_disclosive: bool = setting(True, "a zero cell is disclosive (zeros_are_disclosive)")
    check_missing_values: bool = setting(True, "a statistic over missing values goes to review "
                                         "(ACRO's default is false)")
    min_dof: int = setting(10, "residual degrees of freedom a model needs (safe_dof_threshold)")
    round_base: int = setting(5, "the round mitigation rounds counts to this base")


@dataclass(frozen=True)
class Egress(Section):
    NAME = "egress"
    SUBSECTIONS = ("disclosure",)
    pii_fail_share: float = setting(0.0, "any PII hit in an output column fails the PII check "
                                    "above this share", "share", kind="share", required=True)
    cross_border_extra_approvals: int = setting(1, "approvals a cross-border product needs on "
                                                "top of its level's", "approvals",
                                                required=True, minimum=0)
    review_working_days: int = setting(10, "deadline of an egress review; overdue requests "
                                       "escalate, never approve", "working days")
    differencing_threshold: int = setting(10, "a cell differing from an earlier release's by "
                                          "fewer contributors is flagged", "contributors")
    context_required: bool = setting(False, "a request is submitted only with the merchant's "
                                     "context (what the output is) and controls (what was done "
                                     "to make it safe) for its reviewers")


@dataclass(frozen=True)
class Web(Section):
    NAME = "web"
    idle_minutes: int = setting(30, "a console session unused this long ends", "minutes")
    session_hours: int = setting(12, "a console session ends this long after sign-in",
                                 "hours")
    password_min_length: int = setting(10, "shortest console password", "characters")
    timezone: str = setting("Asia/Shanghai", "dates and times are shown in this zone",
                            kind="zone")
    default_language: str = setting("zh_CN", "the console's language until a user switches",
                                    kind="choice:zh_CN|en")
    public_pages: bool = setting(True, "the catalog and the disclosures of grants and products "
                                 "are readable without signing in (Measures Art. 11, 35)")
    public_preview_max_level: str = setting(
        "L3", "the public sees simulated rows of datasets up to this level; above it, only "
        "signed-in users", kind="choice:L1|L2|L3|L4")
    public_requests_per_minute: int = setting(120, "pages read without signing in, per "
                                              "client address (per API process)", "requests")


@dataclass(frozen=True)
class Api(Section):
    NAME = "api"
    token_days: int = setting(365, "an API token expires this long after it was issued", "days")
    max_request_bytes: int = setting(1_000_000, "larger request bodies are refused (uploads: "
                                     "catalog.max_upload_bytes)", "bytes")
    sign_in_failures_per_minute: int = setting(5, "per client address and per user name, then "
                                               "HTTP 429 for a minute", "failures")
    token_failures_per_minute: int = setting(20, "bad API tokens per client address, then HTTP "
                                             "429 for a minute", "failures")
    requests_per_minute: int = setting(1200, "per API token (per API process)", "requests")


@dataclass(frozen=True)
class Workers(Section):
    NAME = "workers"
    task_retries: int = setting(3, "a delivery that failed is retried this often")
    retry_wait_seconds: int = setting(2, "first wait before a retry; it doubles each time",
                                      "seconds")
    recover_cron: str = setting("* * * * * */15", "find jobs whose worker died", kind="cron")
    sweep_cron: str = setting("* * * * *", "overdue applications and egress requests",
                              kind="cron")
    grant_expiry_cron: str = setting("* * * * *", "end grants whose period is over",
                                     kind="cron")
    witness_cron: str = setting("* * * * *", "copy new ledger checkpoints to this worker's "
                                "witness file", kind="cron")
    orphan_minutes: int = setting(60, "release folders no committed release owns are deleted "
                                  "after this long", "minutes")
    cache_prune_minutes: int = setting(10, "how often cached copies of deleted objects are "
                                       "dropped (object storage)", "minutes")


@dataclass(frozen=True)
class Notifications(Section):
    NAME = "notifications"
    deadline_warning_days: int = setting(3, "a review or amendment due within this many days, "
                                         "or a grant ending within it, is flagged as near",
                                         "days")
    grant_ending_days: int = setting(30, "a merchant's to-dos list grants ending within this "
                                     "many days", "days")
    smtp_host: str = setting("", "mail server for e-mail notices (empty: notices stay in the "
                             "console); its password comes from TDS_SMTP_PASSWORD")
    smtp_port: int = setting(25, "the mail server's port", maximum=65535)
    smtp_starttls: bool = setting(False, "upgrade the connection with STARTTLS before sending")
    smtp_user: str = setting("", "user name at the mail server (empty: no login)")
    smtp_sender: str = setting("tds@localhost", "the From address of notices")
    console_url: str = setting("", "the console's address, for links in e-mails")


@dataclass(frozen=True)
class Cases(Section):
    """Appeals, complaints and security incidents (Measures Art. 18, 33, 39)."""
    NAME = "cases"
    response_working_days: int = setting(5, "the platform first responds to an appeal or a "
                                         "complaint within this", "working days")
    resolve_working_days: int = setting(15, "an appeal or a complaint is resolved within this, "
                                        "counted from its opening", "working days")
    incident_response_working_days: int = setting(1, "the platform responds to a security "
                                                  "incident within this", "working days")
    incident_resolve_working_days: int = setting(5, "a security incident is resolved within "
                                                 "this", "working days")

    def check(self) -> None:
        if self.resolve_working_days < self.response_working_days or \
                self.incident_resolve_working_days < self.incident_response_working_days:
            raise PolicyError("cases: a case cannot be due for resolution before its response")


@dataclass(frozen=True)
class Commerce(Section):
    """Products and services, their prices, sales and costs, and the distribution of income
    (Measures Art. 27, 29, 31, 35-37)."""
    NAME = "commerce"
    categories: tuple[str, ...] = setting(
        ["public_governance", "public_welfare", "industry", "sector"],
        "categories of products and services; a product names one")
    free_categories: tuple[str, ...] = setting(
        ["public_governance", "public_welfare"],
        "categories for public governance and public welfare: used free of charge (Art. 29); "
        "products of the others are commercial, at a price the administrators approve")
    price_units: tuple[str, ...] = setting(
        ["call", "record", "copy", "month", "year"], "what a price is per")
    currency: str = setting("CNY", "the currency of prices, sales and costs (amounts are kept "
                            "in hundredths)")
    platform_share: float = setting(0.1, "share of a commercial product's sales income due to "
                                    "the platform's implementing body", kind="share")
    provider_share: float = setting(0.3, "share of a commercial product's sales income due to "
                                    "the departments whose datasets it was derived from "
                                    "(\"who contributes benefits\", Art. 31)", kind="share")
    provider_split: str = setting("equal", "how the providers' share is split among a "
                                  "product's source datasets: equal parts, or in proportion to "
                                  "the jobs of its grant that read each", kind="choice:equal|jobs")
    largest_amount: int = setting(1_000_000_000_00, "largest price, sale or cost accepted, in "
                                  "hundredths of the currency")

    def check(self) -> None:
        if not self.categories or len(set(self.categories)) != len(self.categories):
            raise PolicyError("commerce: categories must be listed, each once")
        if any(c not in self.categories for c in self.free_categories):
            raise PolicyError("commerce: each free category must be one of the categories")
        if not self.price_units:
            raise PolicyError("commerce: list at least one price unit")
        if self.platform_share + self.provider_share > 1:
            raise PolicyError("commerce: the platform's and the providers' shares exceed the "
                              "whole income")


@dataclass(frozen=True)
class Privacy(Section):
    """Differentially private aggregates (:mod:`sandbox.dp`). A grant's budget of epsilon is
    set by level (``dp_epsilon`` of [levels]); these settings bound each job."""
    NAME = "privacy"
    max_epsilon_per_job: float = setting(1.0, "largest epsilon one DP job may spend",
                                         minimum=0.001)
    max_contributions: int = setting(5, "largest number of rows per person a DP job may count "
                                     "(the merchant picks 1 up to this; more rows, more noise)",
                                     "rows")
    max_cells: int = setting(10_000, "largest number of groups (combinations of keys) of one "
                             "DP job", "groups")
    max_measures: int = setting(20, "statistics one DP job may compute")
    quantile_candidates: int = setting(101, "evenly spaced candidates between a quantile's "
                                       "bounds, among which the quantile is chosen", minimum=2)
    skip_cell_rules: bool = setting(True, "an egress request of a DP output skips the "
                                    "small-cell, dominance and differencing rules: the noise "
                                    "and the budget protect its cells")


@dataclass(frozen=True)
class OwnData(Section):
    """A merchant's own data in its workspace (Measures Art. 15): uploaded for one grant,
    scanned, joined with the granted data, deleted with the workspace."""
    NAME = "own_data"
    max_bytes: int = setting(500_000_000, "largest file a merchant may upload into a workspace",
                             "bytes")
    max_per_grant: int = setting(10, "own tables a workspace may hold at once", "tables")
    refused_entities: tuple[str, ...] = setting(
        ["CN_RESIDENT_ID", "CN_MOBILE", "CN_LANDLINE", "PERSON", "CN_ADDRESS", "CN_BANK_CARD",
         "CN_PASSPORT", "CN_LICENSE_PLATE", "EMAIL_ADDRESS", "CREDIT_CARD", "IBAN_CODE",
         "IP_ADDRESS"],
        "PII a merchant may not bring into a workspace: a file with a column the scan finds "
        "holding one of these is refused (pseudonymize or drop it first)")


SECTIONS: tuple[type[Section], ...] = (Applications, Ledger, Catalog, Text, Sandbox, Scan,
                                       Synth, Egress, Disclosure, Web, Api, Workers,
                                       Notifications, Cases, Commerce, Privacy, OwnData)
