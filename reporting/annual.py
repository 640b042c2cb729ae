"""The annual operation report (Measures Art. 37, due by the end of March to the development,
finance and data departments): the operators' overall operation, the use of data resources,
the sales of products and services, costs and income, changes of charging standards, the
distribution of income and security management, for one calendar year.

Built from the lineage ledger alone, like the disclosure report it extends: every figure is one
the ledger's signed events prove. Sales and costs count by the day they were booked for (a
December sale booked in January is December's), less those voided before the report is built.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import events as case_events
from commerce import events as commerce_events
from commerce.distribution import split
from commerce.money import decimal
from egress import events as egress_events
from lineage.ledger import LedgerEvent
from policies import Policy
from reporting import report
from sandbox import events as sandbox_events

TABLES = {
    "sales": ("product_no", "product", "org", "category", "free", "quantity", "bookings",
              "income"),
    "finance": ("org", "income", "cost", "net"),
    "fee_changes": ("product_no", "product", "org", "previous", "price", "unit", "approved"),
    "distribution": ("party", "kind", "amount"),
    "data_use": ("dataset", "jobs", "releases", "rows_produced"),
}
MONEY = {"income", "cost", "net", "previous", "price", "amount"}
_READ = (egress_events.EGRESS_REQUESTED, egress_events.RELEASE_CREATED,
         commerce_events.PRODUCT_LISTED, commerce_events.PRODUCT_WITHDRAWN,
         commerce_events.PRICE_APPROVED, commerce_events.BOOKED, commerce_events.VOIDED,
         sandbox_events.JOB_QUEUED, case_events.CASE_OPENED, case_events.CASE_RESOLVED)


def annual(session: Session, policy: Policy, year: int) -> dict[str, Any]:
    """The operation report of ``year``; amounts in hundredths of the policy's currency."""
    base = report.disclosure(session, year)
    prefix, end = f"{year:04d}", f"{year + 1:04d}-01-01"
    # A product's name is its release's, which may be of an earlier year than its sales.
    requested: dict[str, str] = {}
    names: dict[str, str] = {}
    products: dict[int, dict[str, Any]] = {}
    bookings: dict[int, dict[str, Any]] = {}
    voided: set[int] = set()
    fee_changes: list[dict[str, Any]] = []
    grant_jobs: dict[int, Counter] = defaultdict(Counter)
    incidents: Counter = Counter()
    case_kinds: dict[str, str] = {}
    rows = session.execute(select(LedgerEvent.time, LedgerEvent.action, LedgerEvent.subject,
                                  LedgerEvent.payload).where(LedgerEvent.action.in_(_READ))
                           .order_by(LedgerEvent.seq).execution_options(yield_per=10_000))
    for time, action, subject, raw in rows:
        p, key = json.loads(raw), subject.partition(":")[2]
        before_end = time < end
        if action == egress_events.EGRESS_REQUESTED:
            requested[subject] = p.get("product") or ""
        elif action == egress_events.RELEASE_CREATED:
            names[p["product_no"]] = requested.get(f"egress:{p.get('request_id')}", "")
        elif action == commerce_events.PRODUCT_LISTED and before_end:
            products[int(key)] = {**p, "product": names.get(p["product_no"], ""),
                                  "price_cents": None, "withdrawn": False}
        elif action == commerce_events.PRODUCT_WITHDRAWN and before_end:
            products[int(key)]["withdrawn"] = True
        elif action == commerce_events.PRICE_APPROVED and before_end:
            product = products[int(key)]
            product["price_cents"] = p["price_cents"]
            if time.startswith(prefix):
                fee_changes.append({"product_no": product["product_no"],
                                    "product": product["product"], "org": product["org"],
                                    "previous": p["previous_cents"], "price": p["price_cents"],
                                    "unit": product["price_unit"], "approved": time[:10]})
        elif action == commerce_events.BOOKED and p["day"].startswith(prefix):
            bookings[int(key)] = p
        elif action == commerce_events.VOIDED:
            voided.add(int(key))
        elif action == sandbox_events.JOB_QUEUED and before_end:
            for name, source in p["sources"].items():
                if source.get("kind") == "dataset":
                    grant_jobs[p["grant_id"]][name] += 1
        elif action == case_events.CASE_OPENED:
            case_kinds[key] = p["kind"]
            if p["kind"] == "incident" and time.startswith(prefix):
                incidents[f"incidents_{p['severity']}"] += 1
        elif action == case_events.CASE_RESOLVED and time.startswith(prefix) \
                and case_kinds.get(key) == "incident":
            incidents["incidents_resolved"] += 1

    sales: dict[int, dict[str, Any]] = {}
    finance: dict[str, Counter] = defaultdict(Counter)
    for booking_id, b in bookings.items():
        if booking_id in voided:
            continue
        finance[b["org"]]["income" if b["kind"] == "sale" else "cost"] += b["amount_cents"]
        if b["kind"] == "sale" and b["product_id"] in products:
            product = products[b["product_id"]]
            row = sales.setdefault(b["product_id"], {
                "product_no": product["product_no"], "product": product["product"],
                "org": product["org"], "category": product["category"],
                "free": product["free"], "quantity": 0, "bookings": 0, "income": 0})
            row["quantity"] += b["quantity"]
            row["bookings"] += 1
            row["income"] += b["amount_cents"]

    shares: Counter = Counter()
    for product_id, row in sales.items():
        product = products[product_id]
        if product["free"] or not row["income"]:
            continue
        parts = split(row["income"], product["sources"], grant_jobs[product["grant_id"]],
                      policy)
        shares[("platform", "platform")] += parts["platform_cents"]
        shares[(product["org"], "operator")] += parts["operator_cents"]
        for dataset, cents in parts["sources"].items():
            shares[(dataset, "dataset")] += cents
    order = {"platform": 0, "dataset": 1, "operator": 2}
    distribution = [{"party": party, "kind": kind, "amount": cents}
                    for (party, kind), cents in sorted(shares.items(),
                                                       key=lambda i: (order[i[0][1]], i[0][0]))]
    money = [{"org": org, "income": c["income"], "cost": c["cost"],
              "net": c["income"] - c["cost"]} for org, c in sorted(finance.items())]
    listed = [p for p in products.values() if not p["withdrawn"]]
    rules = policy.commerce
    return {
        "year": year, "source": "the lineage ledger", "currency": rules.currency,
        "operation": {
            "organizations_granted": base["indicators"]["operation_benefits"][
                "organizations_granted"],
            "grants": len(base["grants"]),
            "releases": len(base["products"]),
            "products_listed": len(listed),
            "products_free": sum(p["free"] for p in listed),
            "products_commercial": sum(not p["free"] for p in listed),
            "products_sold": sum(1 for r in sales.values() if r["bookings"]),
        },
        "data_use": base["dataset_use"],
        "resource_supply": base["indicators"]["resource_supply"],
        "sales": sorted(sales.values(), key=lambda r: r["product_no"]),
        "finance": money,
        "totals": {"income": sum(r["income"] for r in money),
                   "cost": sum(r["cost"] for r in money),
                   "net": sum(r["net"] for r in money)},
        "fee_changes": fee_changes,
        "distribution": distribution,
        "distribution_rule": {"platform_share": rules.platform_share,
                              "provider_share": rules.provider_share,
                              "provider_split": rules.provider_split},
        "review_timeliness": base["review_timeliness"],
        "security": {**base["security_events"], **dict(sorted(incidents.items()))},
    }


def public(full: dict[str, Any]) -> dict[str, Any]:
    """What the public reads of the report: counts of the operation, the changes of charging
    standards (public anyway, Art. 35), the use of datasets in jobs and releases, and the
    review timeliness. An operator's sales, costs, income and shares stay with the authorities
    (with one operator a total is its own books), as do rows produced and security counts,
    which a merchant could difference against its own work."""
    return {"year": full["year"], "currency": full["currency"],
            "operation": full["operation"], "fee_changes": full["fee_changes"],
            "data_use": [{k: u[k] for k in ("dataset", "jobs", "releases")}
                         for u in full["data_use"]],
            "review_timeliness": full["review_timeliness"]}


def _cell(field: str, value: Any) -> Any:
    if field in MONEY and isinstance(value, int):
        return decimal(value)
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # text a spreadsheet would run as a formula stays text
    return value


def table(r: dict[str, Any], name: str) -> list[list[Any]]:
    """One of the report's tables, its header first, amounts as decimals."""
    fields = TABLES[name]
    return [list(fields)] + [[_cell(f, row.get(f)) for f in fields] for row in r.get(name, [])]


def as_csv(r: dict[str, Any], name: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(table(r, name))
    return out.getvalue()


def as_xlsx(r: dict[str, Any]) -> bytes:
    """The report as a workbook: a summary sheet, then one sheet per table."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    summary = book.create_sheet("summary")
    summary.append(["year", r["year"]])
    summary.append(["currency", r["currency"]])
    for section in ("operation", "totals", "security"):
        for key, value in r[section].items():
            summary.append([f"{section}.{key}", _cell(key, value)])
    for name in TABLES:
        if name in r:
            sheet = book.create_sheet(name)
            for row in table(r, name):
                sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def as_markdown(r: dict[str, Any]) -> str:
    op, totals, cur = r["operation"], r["totals"], r["currency"]
    lines = [f"# Annual operation report {r['year']} (授权运营年度报告)", "",
             f"Built from {r['source']}; amounts in {cur}.", "", "## Overall operation", "",
             f"{op['organizations_granted']} organizations granted, {op['grants']} grants, "
             f"{op['releases']} releases; {op['products_listed']} products listed "
             f"({op['products_free']} free, {op['products_commercial']} commercial), "
             f"{op['products_sold']} sold or used.", ""]
    titles = {"data_use": "Use of data resources", "sales": "Sales of products and services",
              "finance": "Costs and income", "fee_changes": "Changes of charging standards",
              "distribution": "Distribution of income"}
    for name, title in titles.items():
        if name not in r:
            continue
        lines += [f"## {title}", ""]
        rows = table(r, name)
        lines += report.markdown_table(rows[0], rows[1:])
        lines.append("")
    lines += [f"Total income {decimal(totals['income'])}, cost {decimal(totals['cost'])}, "
              f"net {decimal(totals['net'])}.", "", "## Security management", ""]
    lines += report.markdown_table(["event", "count"], [[k, v] for k, v in
                                                        r["security"].items()])
    return "\n".join(lines) + "\n"


def render(r: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(r, ensure_ascii=False, indent=1)
    if fmt == "md":
        return as_markdown(r)
    if fmt == "html":
        return report.html_page(as_markdown(r), f"公共数据资源授权运营年度报告 {r['year']}")
    raise report.BadReport("format must be one of {formats}", formats="md, json, html, csv, xlsx")
