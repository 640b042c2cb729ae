"""Words the console shows that come from the domain as values (statuses, roles, check names,
rules, indicator names), marked with ``N_`` so the message extractor puts them in the catalogs.
The pages translate them when shown (``_(status)``)."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


ROLES = (N_("provider"), N_("merchant"), N_("reviewer"), N_("admin"))
STATUSES = (
    N_("queued"), N_("running"), N_("succeeded"), N_("failed"), N_("cancelled"), N_("timed_out"),
    N_("submitted"), N_("approved"), N_("rejected"), N_("deemed_approved"), N_("escalated"),
    N_("active"), N_("revoked"), N_("expired"), N_("disabled"),
    N_("draft"), N_("in_review"), N_("returned"), N_("withdrawn"), N_("released"),
    N_("pending"), N_("building"), N_("ready"), N_("suggested"), N_("confirmed"),
    N_("verified"), N_("modified"), N_("leaf-mismatch"), N_("valid"), N_("invalid"),
)
VERDICTS = (N_("pass"), N_("review"), N_("fail"))
DECISIONS = (N_("approve"), N_("reject"), N_("return"))
ATTRIBUTES = (N_("open"), N_("conditional"), N_("restricted"))
TARGETS = (N_("real"), N_("simulated"))
CHECKS = (N_("scope"), N_("sources"), N_("raw_exposure"), N_("personal_information"),
          N_("trade_secrets"), N_("disclosure"), N_("differencing"), N_("cross_border"))
RULES = (N_("threshold"), N_("zeros"), N_("nk_rule"), N_("p_ratio"), N_("negative"),
         N_("missing"), N_("dof"), N_("individual_values"), N_("unknown_statistic"),
         N_("unsafe_statistic"))
ALERTS = (N_("budget_spent"), N_("repeated_shape"), N_("failures"))
MITIGATIONS = (N_("mitigation:none"), N_("mitigation:suppress"), N_("mitigation:round"),
               N_("mitigation:suppress+round"))
DIRECTIONS = (N_("direction:both"), N_("direction:up"), N_("direction:down"))
REVIEW_POINTS = (
    N_("the product fits the approved purpose and scope"),
    N_("the product names its data sources"),
    N_("no raw or sensitive data is exposed without consent"),
    N_("no personal information or trade secret is at risk"),
    N_("any cross-border transfer is assessed and allowed"),
    N_("no other risk"),
)
PREVIEW_REPORT = (N_("quality"), N_("column_shapes"), N_("column_pair_trends"),
                  N_("exact_row_matches"), N_("reused_identifier_values"), N_("rows"),
                  N_("seconds"))
INDICATORS = (
    N_("authorization_procedure"), N_("resource_supply"), N_("operation_benefits"),
    N_("data_security"),
    N_("applications_submitted"), N_("applications_decided"), N_("egress_requests"),
    N_("decided_within_deadline_share"), N_("datasets_registered"), N_("grants_created"),
    N_("versions_registered"), N_("rows_registered"), N_("jobs_succeeded"),
    N_("products_released"), N_("downloads"), N_("organizations_granted"),
    N_("failed_sign_ins"), N_("egress_rejected"), N_("jobs_failed"), N_("grants_revoked"),
    N_("jobs_timed_out"), N_("egress_requests_failing_checks"), N_("key_rotations"),
    N_("controls"), N_("incidents"),
    N_("sandbox isolation"), N_("automatic egress checks"), N_("reviewer sign-off"),
    N_("tamper-evident ledger"),
)
