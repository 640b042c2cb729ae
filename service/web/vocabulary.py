"""Words the console shows that come from the domain as values (statuses, roles, check names,
rules, indicator names), marked with ``N_`` so the message extractor puts them in the catalogs.
The pages translate them when shown (``_(status)``)."""

from __future__ import annotations


def N_(message: str) -> str:
    return message


ROLES = (N_("provider"), N_("merchant"), N_("reviewer"), N_("admin"), N_("regulator"))
STATUSES = (
    N_("queued"), N_("running"), N_("succeeded"), N_("failed"), N_("cancelled"), N_("timed_out"),
    N_("submitted"), N_("approved"), N_("rejected"), N_("deemed_approved"), N_("escalated"),
    N_("active"), N_("revoked"), N_("expired"), N_("disabled"),
    N_("draft"), N_("in_review"), N_("returned"), N_("withdrawn"), N_("released"),
    N_("pending"), N_("building"), N_("ready"), N_("suggested"), N_("confirmed"), N_("not_public"),
    N_("verified"), N_("modified"), N_("leaf-mismatch"), N_("valid"), N_("invalid"),
)
VERDICTS = (N_("pass"), N_("review"), N_("fail"))
# Two-level review of applications (catalog.reviews).
CHECK_VERDICTS = (N_("agreed"), N_("refused"), N_("deemed"), N_("agree"), N_("refuse"))
RATINGS = (N_("concern"),)  # with pass and fail above
POINTS = (N_("point:reasonableness"), N_("point:compliance"), N_("point:security"))
ATTACHMENT_KINDS = (N_("attachment:letter"), N_("attachment:commitment"),
                    N_("attachment:other"))
BLOCKERS = (N_("blocker:check_pending"), N_("blocker:check_refused"),
            N_("blocker:attachment_missing"))
DECISIONS = (N_("approve"), N_("reject"), N_("return"))
ATTRIBUTES = (N_("open"), N_("conditional"), N_("restricted"))
TARGETS = (N_("real"), N_("simulated"))
TODOS = (N_("todo:applications_to_review"), N_("todo:egress_to_review"),
         N_("todo:applications_to_amend"), N_("todo:egress_to_answer"), N_("todo:grants_ending"),
         N_("todo:open_alerts"), N_("todo:escalated"), N_("todo:classifications_to_confirm"),
         N_("todo:previews_failed"), N_("todo:applications_to_check"),
         N_("todo:quality_to_answer"), N_("todo:quality_overdue"), N_("todo:cases_to_handle"))
USAGE = (N_("usage:organizations"), N_("usage:grants"), N_("usage:datasets"), N_("jobs_real"),
         N_("jobs_simulated"), N_("job_seconds"), N_("rows_produced"), N_("releases"))
CASES = (N_("case:appeal"), N_("case:complaint"), N_("case:incident"), N_("in_progress"),
         N_("upheld"), N_("dismissed"), N_("resolved"), N_("low"), N_("medium"), N_("high"),
         N_("critical"))
QUALITY = (N_("acknowledged"), N_("fixed"), N_("acknowledge"), N_("issue:missing_values"),
           N_("issue:wrong_values"), N_("issue:inconsistent"), N_("issue:outdated"),
           N_("issue:schema"), N_("issue:other"), N_("overdue"))
COMMERCE = (N_("category:public_governance"), N_("category:public_welfare"),
            N_("category:industry"), N_("category:sector"), N_("unit:call"), N_("unit:record"),
            N_("unit:copy"), N_("unit:month"), N_("unit:year"), N_("listed"), N_("withdrawn"),
            N_("pending"), N_("approved"), N_("rejected"), N_("booking:sale"),
            N_("booking:cost"), N_("annual:sales"), N_("annual:finance"),
            N_("annual:fee_changes"), N_("annual:distribution"), N_("annual:data_use"),
            N_("field:product_no"), N_("field:product"), N_("field:org"), N_("field:category"),
            N_("field:free"), N_("field:quantity"), N_("field:bookings"), N_("field:income"),
            N_("field:cost"), N_("field:net"), N_("field:previous"), N_("field:price"),
            N_("field:unit"), N_("field:approved"), N_("field:party"), N_("field:kind"),
            N_("field:amount"), N_("field:dataset"), N_("field:jobs"), N_("field:releases"),
            N_("field:rows_produced"), N_("party:platform"), N_("party:dataset"),
            N_("party:operator"))
GRANT_CHANGES = (N_("grant_change:revoked"), N_("grant_change:expired"))
QUALIFICATION = (N_("qualification:submitted"), N_("qualification:in_notice"),
                 N_("qualification:qualified"), N_("qualification:rejected"),
                 N_("condition:good_standing"), N_("condition:capability"),
                 N_("condition:security_management"), N_("condition:data_management"),
                 N_("action:qualification.submitted"), N_("action:qualification.noticed"),
                 N_("action:qualification.rejected"), N_("action:qualification.granted"))
CONSENT = (N_("consent:active"), N_("consent:future"), N_("consent:expired"),
           N_("consent:withdrawn"), N_("consent:superseded"),
           N_("action:consent.required"), N_("action:consent.recorded"),
           N_("action:consent.withdrawn"), N_("consent_required"))
FREQUENCIES = (N_("frequency:realtime"), N_("frequency:daily"), N_("frequency:weekly"),
               N_("frequency:monthly"), N_("frequency:quarterly"), N_("frequency:yearly"),
               N_("frequency:irregular"))
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
# Human words for the scan's entity codes (the code stays in the page's data attributes).
ENTITY_LABELS = (
    N_("entity:CN_RESIDENT_ID"), N_("entity:CN_USCC"), N_("entity:CN_BANK_CARD"),
    N_("entity:CN_MOBILE"), N_("entity:CN_LANDLINE"), N_("entity:CN_LICENSE_PLATE"),
    N_("entity:CN_PASSPORT"), N_("entity:CREDIT_CARD"), N_("entity:IBAN_CODE"),
    N_("entity:IP_ADDRESS"), N_("entity:EMAIL_ADDRESS"), N_("entity:URL"),
    N_("entity:CN_ADDRESS"), N_("entity:PERSON"),
)
# Kinds of Arrow type, as an analyst names them.
TYPE_LABELS = (N_("type:integer"), N_("type:decimal"), N_("type:text"), N_("type:date"),
               N_("type:time"), N_("type:timestamp"), N_("type:boolean"), N_("type:binary"),
               N_("type:list"), N_("type:struct"), N_("type:null"))
# Domains of public data a provider picks from (others are shown as their identifier).
DOMAIN_LABELS = (
    N_("domain:health"), N_("domain:transport"), N_("domain:education"), N_("domain:finance"),
    N_("domain:market"), N_("domain:environment"), N_("domain:population"),
    N_("domain:social_security"), N_("domain:employment"), N_("domain:agriculture"),
    N_("domain:culture"), N_("domain:housing"), N_("domain:public_safety"), N_("domain:weather"),
    N_("domain:energy"), N_("domain:government"),
)
# Kinds of lineage node and ledger subject.
NODE_LABELS = (
    N_("node:dataset"), N_("node:dataset_version"), N_("node:version"), N_("node:job"),
    N_("node:output"), N_("node:egress"), N_("node:release"), N_("node:download"),
    N_("node:grant"), N_("node:application"), N_("node:user"), N_("node:org"),
    N_("node:ledger"), N_("node:ledger_month"), N_("node:key"), N_("node:alert"),
    N_("node:preview"), N_("node:session"), N_("node:quality"), N_("node:case"),
    N_("node:own_data"), N_("node:data_key"),
)
# What each ledger action means (``action:<action>``).
ACTION_LABELS = (
    N_("action:application.amended"), N_("action:application.returned"),
    N_("action:application.withdrawn"), N_("action:application.checked"),
    N_("action:application.attached"), N_("action:application.detached"),
    N_("action:quality.reported"), N_("action:quality.answered"), N_("action:quality.fixed"),
    N_("action:case.opened"), N_("action:case.responded"), N_("action:case.resolved"),
    N_("action:product.listed"), N_("action:product.withdrawn"),
    N_("action:product.price_proposed"), N_("action:product.price_approved"),
    N_("action:product.price_rejected"), N_("action:finance.booked"),
    N_("action:finance.voided"), N_("action:dp.budget_spent"), N_("action:own_data.uploaded"),
    N_("action:own_data.deleted"), N_("action:own_data.preview"), N_("action:key.created"),
    N_("action:key.destroyed"), N_("action:key.rewrapped"),
    N_("action:application.reopened"), N_("action:grant.agreement_accepted"),
    N_("action:application.approved"), N_("action:application.deemed_approved"),
    N_("action:application.escalated"), N_("action:application.rejected"),
    N_("action:application.submitted"), N_("action:auth.failed"),
    N_("action:dataset.classified"), N_("action:dataset.registered"),
    N_("action:egress.approved"), N_("action:egress.drafted"), N_("action:egress.escalated"),
    N_("action:egress.in_review"), N_("action:egress.rejected"), N_("action:egress.released"),
    N_("action:egress.requested"), N_("action:egress.returned"),
    N_("action:egress.review.approve"), N_("action:egress.review.reject"),
    N_("action:egress.review.return"), N_("action:egress.submitted"),
    N_("action:egress.updated"), N_("action:egress.withdrawn"), N_("action:grant.created"),
    N_("action:grant.expired"), N_("action:grant.revoked"), N_("action:job.cancel_requested"),
    N_("action:job.cancelled"), N_("action:job.failed"), N_("action:job.kept"), N_("action:job.queued"),
    N_("action:job.requeued"), N_("action:job.running"), N_("action:job.succeeded"),
    N_("action:job.timed_out"), N_("action:ledger.archived"), N_("action:ledger.key_rotated"),
    N_("action:ledger.purged"), N_("action:org.created"), N_("action:preview.building"),
    N_("action:preview.built"), N_("action:preview.failed"), N_("action:release.created"),
    N_("action:release.downloaded"), N_("action:security.alert"),
    N_("action:security.alert_acknowledged"), N_("action:user.created"),
    N_("action:user.disabled"), N_("action:user.email_set"), N_("action:user.enabled"),
    N_("action:user.password_set"),
    N_("action:user.signed_in"), N_("action:user.signed_out"), N_("action:user.token_rotated"),
)
# Kinds of simulated preview (the preview file's ``tds.preview.kind``).
PREVIEW_KINDS = (N_("preview:sdv-gaussian-copula"), N_("preview:placeholder"),
                 N_("preview:none"))
# Sections of the policy file.
POLICY_SECTIONS = (
    N_("section:levels"), N_("section:applications"), N_("section:ledger"),
    N_("section:catalog"), N_("section:text"), N_("section:sandbox"), N_("section:scan"),
    N_("section:synth"), N_("section:egress"), N_("section:egress.disclosure"),
    N_("section:web"), N_("section:api"), N_("section:workers"), N_("section:notifications"),
    N_("section:cases"), N_("section:commerce"), N_("section:privacy"), N_("section:own_data"),
)
