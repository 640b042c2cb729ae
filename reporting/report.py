"""The annual disclosure report and the monitoring indicators, built from the ledger alone
(the Measures' articles on disclosure and on the annual report due by the end of March)."""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.events import AUTH_FAILED
from catalog import events as catalog_events
from egress import events as egress_events
from lineage.errors import LedgerError
from lineage.events import KEY_ROTATED
from lineage.ledger import LedgerEvent
from sandbox import events as sandbox_events

FORMATS = ("md", "json", "html")


class BadReport(LedgerError):
    kind = "invalid"


def _events(session: Session, year: int):
    """Every event up to the end of ``year``: earlier ones still give context (applications
    submitted in December and decided in January, datasets registered before)."""
    end = f"{year + 1:04d}-01-01"
    rows = session.execute(select(LedgerEvent.seq, LedgerEvent.time, LedgerEvent.action,
                                  LedgerEvent.subject, LedgerEvent.payload)
                           .where(LedgerEvent.time < end).order_by(LedgerEvent.seq)
                           .execution_options(yield_per=10_000))
    for seq, time, action, subject, payload in rows:
        yield seq, time, action, subject, json.loads(payload)


def years(session: Session) -> list[int]:
    """The years the ledger holds events of, newest first (none: an empty ledger)."""
    first, last = session.execute(select(func.min(LedgerEvent.time),
                                         func.max(LedgerEvent.time))).one()
    if not first:
        return []
    return list(range(int(last[:4]), int(first[:4]) - 1, -1))


def disclosure(session: Session, year: int) -> dict[str, Any]:
    if not 2000 <= year <= 9999:
        raise BadReport("year must be a four-digit year, not {year}", year=year)
    prefix = f"{year:04d}"
    applications: dict[str, dict[str, Any]] = {}
    grants, products, security = [], [], Counter()
    known_grants: dict[str, dict[str, Any]] = {}
    changes: list[dict[str, Any]] = []
    dataset_use: dict[str, Counter] = defaultdict(Counter)
    supply = Counter()
    egress_products: dict[str, str] = {}
    jobs_sources: dict[str, list[str]] = {}
    downloads = Counter()
    for _seq, time, action, subject, p in _events(session, year):
        this_year = time.startswith(prefix)
        if action == catalog_events.APPLICATION_SUBMITTED:
            applications[subject] = {"submitted": time, "deadline": p.get("deadline"),
                                     "org": p.get("org"), "scenario": p.get("scenario"),
                                     "items": p.get("items", []), "months": p.get("months")}
        elif action.startswith("application.") and subject in applications:
            app = applications[subject]
            if action in catalog_events.DECISIONS and "decided" not in app:
                app["decided"], app["decision"] = time, action.split(".", 1)[1]
            elif action == catalog_events.APPLICATION_ESCALATED:
                app["escalated"] = time
        elif action == catalog_events.GRANT_CREATED:
            app = applications.get(f"application:{p.get('application_id')}", {})
            known_grants[subject] = {
                "grant": subject, "org": p.get("org"), "scenario": app.get("scenario"),
                "datasets": sorted({i.get("dataset") for i in p.get("items", [])}),
                "from": time[:10], "until": (p.get("expires_at") or "")[:10],
                "agreement_sha256": p.get("agreement_sha256"), "agreement_accepted": None,
                "ended": None, "end": None}
            if this_year:
                grants.append(known_grants[subject])
        elif action in (catalog_events.GRANT_REVOKED, catalog_events.GRANT_EXPIRED):
            # Art. 23: a grant's end is disclosed as a change of its authorization.
            grant = known_grants.get(subject)
            how = action.split(".", 1)[1]
            if grant is not None:
                grant["ended"], grant["end"] = time[:10], how
                if this_year:
                    changes.append({k: grant[k] for k in ("grant", "org", "scenario",
                                                          "datasets", "from", "until")}
                                   | {"change": how, "day": time[:10]})
            if action == catalog_events.GRANT_REVOKED and this_year:
                security["grants_revoked"] += 1
        elif action == catalog_events.AGREEMENT_ACCEPTED:
            for grant in grants:
                if grant["grant"] == subject:
                    grant["agreement_accepted"] = time[:10]
        elif action == catalog_events.DATASET_REGISTERED:
            if this_year:
                supply["versions_registered"] += 1
                supply["rows_registered"] += int(p.get("rows") or 0)
                if p.get("version") == 1:
                    supply["datasets_registered"] += 1
        elif action == sandbox_events.JOB_QUEUED:
            names = sorted(n for n, s in (p.get("sources") or {}).items()
                           if s.get("kind") == "dataset")
            jobs_sources[subject] = names
            if this_year:
                for name in names:
                    dataset_use[name]["jobs"] += 1
        elif action == sandbox_events.JOB_SUCCEEDED and this_year:
            for name in jobs_sources.get(subject, []):
                dataset_use[name]["rows_produced"] += int(p.get("rows") or 0)
        elif action in (sandbox_events.JOB_FAILED, sandbox_events.JOB_TIMED_OUT) and this_year:
            security[f"jobs_{action.split('.')[1]}"] += 1
        elif action == egress_events.EGRESS_REQUESTED:
            egress_products[subject] = p.get("product")
            if this_year and "fail" in (p.get("checks") or {}).values():
                security["egress_requests_failing_checks"] += 1
        elif action == egress_events.EGRESS_REJECTED and this_year:
            security["egress_rejected"] += 1
        elif action == egress_events.RELEASE_CREATED and this_year:
            products.append({"release": subject, "product_no": p.get("product_no"),
                             "product": egress_products.get(f"egress:{p.get('request_id')}"),
                             "sources": p.get("sources", []), "time": time[:10]})
            for name in p.get("sources", []):
                dataset_use[name]["releases"] += 1
        elif action == egress_events.RELEASE_DOWNLOADED and this_year:
            downloads[subject] += 1
        elif action == AUTH_FAILED and this_year:
            security["failed_sign_ins"] += 1
        elif action == KEY_ROTATED and this_year:
            security["key_rotations"] += 1

    decided = [a for a in applications.values() if a.get("decided", "").startswith(prefix)]
    in_time = [a for a in decided if a["decision"] != "deemed_approved"
               and a["decided"][:10] <= (a.get("deadline") or "")]
    submitted = [a for a in applications.values() if a["submitted"].startswith(prefix)]
    timeliness = {
        "applications_submitted": len(submitted),
        "applications_decided": len(decided),
        "approved": sum(a["decision"] == "approved" for a in decided),
        "rejected": sum(a["decision"] == "rejected" for a in decided),
        "deemed_approved": sum(a["decision"] == "deemed_approved" for a in decided),
        "escalated": sum(a.get("escalated", "").startswith(prefix) for a in applications.values()),
        "decided_within_deadline_share": round(len(in_time) / len(decided), 4) if decided else None,
    }
    use = [{"dataset": name, "jobs": c["jobs"], "releases": c["releases"],
            "rows_produced": c["rows_produced"]} for name, c in sorted(dataset_use.items())]
    return {
        "year": year, "source": "the lineage ledger",
        "grants": grants, "grant_changes": changes, "products": products, "dataset_use": use,
        "review_timeliness": timeliness,
        "security_events": dict(sorted(security.items())),
        "indicators": {
            "authorization_procedure": timeliness,
            "resource_supply": {"datasets_registered": supply["datasets_registered"],
                                "versions_registered": supply["versions_registered"],
                                "rows_registered": supply["rows_registered"]},
            "operation_benefits": {"products_released": len(products),
                                   "downloads": sum(downloads.values()),
                                   "organizations_granted": len({g["org"] for g in grants})},
            "data_security": {"controls": ["sandbox isolation", "automatic egress checks",
                                           "reviewer sign-off", "tamper-evident ledger"],
                              "incidents": dict(sorted(security.items()))},
        },
    }


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadReport("format must be one of {formats}", formats=', '.join(FORMATS))
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=1)
    md = _markdown(report)
    if fmt == "md":
        return md
    return html_page(md, f"数据开发利用情况披露 {report['year']}")


def html_page(md: str, title: str) -> str:
    """A Markdown report (headings, paragraphs, tables) as a standalone HTML page."""
    body = "\n".join(f"<pre>{html.escape(line)}</pre>" if line.startswith("|") else
                     f"<h{line.count('#', 0, 3)}>{html.escape(line.lstrip('# '))}"
                     f"</h{line.count('#', 0, 3)}>" if line.startswith("#") else
                     f"<p>{html.escape(line)}</p>" for line in md.splitlines() if line.strip())
    return (f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>"
            f"{html.escape(title)}</title><body>{body}</body></html>\n")


def markdown_table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |" for row in rows]
    return lines if rows else [*lines, "| " + " | ".join("-" for _ in headers) + " |"]


def _markdown(r: dict[str, Any]) -> str:
    t = r["review_timeliness"]
    share = t["decided_within_deadline_share"]
    lines = [f"# Disclosure report {r['year']} (数据开发利用情况披露)", "",
             f"Built from {r['source']}.", "", "## Grants", ""]
    lines += markdown_table(["grant", "organization", "scenario", "datasets", "period"],
                    [[g["grant"], g["org"], g["scenario"], ", ".join(g["datasets"]),
                      f"{g['from']} - {g['until']}"] for g in r["grants"]])
    lines += ["", "## Changes of grants", ""]
    lines += markdown_table(["grant", "organization", "scenario", "change", "day"],
                            [[c["grant"], c["org"], c["scenario"], c["change"], c["day"]]
                             for c in r.get("grant_changes", [])])
    lines += ["", "## Products released", ""]
    lines += markdown_table(["product no.", "product", "sources", "released"],
                    [[p["product_no"], p["product"], ", ".join(p["sources"]), p["time"]]
                     for p in r["products"]])
    lines += ["", "## Use per dataset", ""]
    lines += markdown_table(["dataset", "jobs", "releases", "rows produced"],
                    [[u["dataset"], u["jobs"], u["releases"], u["rows_produced"]]
                     for u in r["dataset_use"]])
    lines += ["", "## Review timeliness", "",
              f"{t['applications_submitted']} applications submitted, "
              f"{t['applications_decided']} decided ({t['approved']} approved, "
              f"{t['rejected']} rejected, {t['deemed_approved']} deemed approved, "
              f"{t['escalated']} escalated); decided within the deadline: "
              + (f"{share:.0%}" if share is not None else "n/a") + ".", "",
              "## Security events", ""]
    lines += markdown_table(["event", "count"], [[k, v] for k, v in r["security_events"].items()])
    supply, benefits = r["indicators"]["resource_supply"], r["indicators"]["operation_benefits"]
    lines += ["", "## Monitoring indicators", "",
              f"- Resource supply: {supply['datasets_registered']} datasets, "
              f"{supply['versions_registered']} versions, {supply['rows_registered']} rows "
              "registered.",
              f"- Operation benefits: {benefits['products_released']} products released, "
              f"{benefits['downloads']} downloads, {benefits['organizations_granted']} "
              "organizations granted.", ""]
    return "\n".join(lines)
