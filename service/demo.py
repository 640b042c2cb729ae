"""`tds demo`: the whole authorized-operation flow on generated data, ending in a verified release."""

from __future__ import annotations

import io
import random
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from accounts.errors import Conflict
from accounts.users import User
from actions import (
    Context,
    applications,
    catalog,
    commerce,
    egress,
    jobs,
    ledger,
    qualification,
    users,
)
from catalog.applications import Request
from catalog.datasets import Registration
from egress.bundle import verify_bundle
from policies import OPERATOR, Actor, Role
from service import demo_data
from service.home import Home

DEMO_SQL = """
SELECT district, department, date_trunc('month', visit_date) AS month,
       count(*) AS visits, round(avg(fee), 2) AS avg_fee
FROM hospital_visits
GROUP BY ALL
HAVING count(*) >= 10
ORDER BY month, district, department
""".strip()



# A reviewer's answers to the six review points of the Measures for the demo's aggregate table.
CHECKLIST = {
    "purpose_scope": {"answer": "yes", "comment": "与批准的卫生资源规划场景一致"},
    "sources": {"answer": "yes", "comment": "来源为门诊记录，登记号已列明"},
    "raw_exposure": {"answer": "yes", "comment": "仅输出聚合统计"},
    "personal_information_trade_secrets": {"answer": "yes", "comment": "无个人信息，小格已检查"},
    "cross_border": {"answer": "n/a", "comment": "不出境"},
    "other_risks": {"answer": "yes", "comment": "未发现其他风险"},
}

def _suffix(home: Home) -> str:
    """Demo runs in one home get distinct names: '' the first time, then '_2', '_3'..."""
    with home.store.read() as session:
        runs = session.scalar(select(func.count()).select_from(User)
                              .where(User.name.like("demo_admin%"))) or 0
    return "" if runs == 0 else f"_{runs + 1}"


def _qualify(acting: dict[str, Context], seed: int) -> str:
    """The merchant's organization applies for qualification and the administrator approves it
    into public notice (Art. 20; qualification follows when the notice ends, which the demo
    does not wait for: [applications] qualified_only is off by default)."""
    try:
        made = qualification.apply(
            acting["merchant"], demo_data.uscc(random.Random(seed), "440100"), "陈明", "林晓",
            {"good_standing": "经营状况良好，无重大违法记录，未列入失信名单",
             "capability": "有固定办公场所和 30 人的数据开发、运营与安全团队",
             "security_management": "设数据安全部，林晓为数据安全负责人，制度已发布",
             "data_management": "通过数据管理能力成熟度评估（DCMM）三级"})
    except Conflict:
        return "  the merchant's organization has a qualification on file already"
    noticed = qualification.review(acting["admin"], made["id"], True, "材料齐全，资格审查通过")
    return (f"Qualification {made['id']} of {noticed['org']} reviewed; in public notice until "
            f"{noticed['notice_until']}")


def run_demo(home: Home, seed: int = 20251125,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = progress or (lambda _msg: None)
    started = time.monotonic()
    home.init()
    say(f"Home {home.root} ({home.store.dialect} store, signing key {home.signer.key_id})")
    sfx = _suffix(home)
    operator = Context.of(home, OPERATOR)

    tokens: dict[str, str] = {}
    passwords: dict[str, str] = {}
    acting: dict[str, Context] = {}
    names: dict[str, str] = {}
    for role, key, org in (
        ("admin", "admin", None),
        ("provider", "provider", None),
        ("merchant", "merchant", "粤数科技有限公司"),
        ("reviewer", "reviewer", "广东省政务服务和数据管理局"),
        ("reviewer", "reviewer2", "广东省政务服务和数据管理局"),
    ):
        # A fresh console password per user and run (printed once, like the tokens).
        passwords[key] = secrets.token_urlsafe(9)
        created = users.add(operator, f"demo_{key}{sfx}", role, org, passwords[key])
        tokens[key], names[key] = created["token"], created["name"]
        acting[key] = operator.as_actor(Actor(created["id"], created["name"], Role(role), org))
    say("Users: an administrator, a provider, a merchant and two reviewers")
    qualified = _qualify(acting, seed)
    say(qualified)

    specs = [
        ("hospital_visits", "广州市门诊就诊记录", "health", "L3", "conditional",
         demo_data.hospital_visits(6000, seed), "visits.csv"),
        ("enterprise_registry", "广州市企业登记信息", "market", "L2", "open",
         demo_data.enterprises(2000, seed + 1), "enterprises.parquet"),
        ("traffic_records", "广州市卡口过车记录", "transport", "L3", "conditional",
         demo_data.traffic(5000, seed + 2), "traffic.parquet"),
    ]
    registered = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, title, domain, level, attribute, table, filename in specs:
            encoding = "gb18030" if filename.endswith(".csv") else "utf-8"
            path = demo_data.write(table, Path(tmp) / filename, encoding)
            department, frequency, fields = demo_data.DESCRIBED[name]
            info = catalog.register(acting["provider"], path, Registration(
                name + sfx, title, domain, level, attribute,
                f"演示数据：{title}（生成数据，非真实记录）", department, frequency, fields))
            built = info.pop("preview")
            registered.append({"name": info["name"], "registration_no": info["registration_no"],
                               "rows": info["rows"], "level": info["level"],
                               "pii_columns": {c["name"]: c["entity"] for c in info["pii"]
                                               if c["entity"]}})
            say(f"Registered {info['name']} ({info['registration_no']}, {info['rows']} rows, "
                f"{encoding} {Path(filename).suffix[1:]}); PII columns: "
                f"{', '.join(registered[-1]['pii_columns']) or 'none'}")
            registered[-1]["preview"] = built["report"] or {"error": built["error"]}
            if built["status"] != "ready":
                raise RuntimeError(f"the simulated preview of {info['name']} failed: "
                                   f"{built['error']}")
            say(f"  simulated preview: {built['report']['rows']} rows, quality "
                f"{built['report']['quality']}, real rows reproduced "
                f"{built['report']['exact_row_matches']}, real identifiers reused "
                f"{built['report']['reused_identifier_values']}")

    visits = "hospital_visits" + sfx
    app = applications.submit(acting["merchant"], Request(
        scenario="门诊资源配置分析" + sfx,
        description="按区、科室和月份统计门诊量与平均费用，支持医疗资源规划",
        purpose="为卫生规划部门提供各区门诊负荷分析产品",
        products="各区科室月度门诊量与平均费用统计表",
        months=12,
        items=[{"dataset": visits,
                "columns": ["district", "department", "visit_date", "fee", "age"]}],
    ))
    app_id = app["id"]
    say(f"Application {app_id} submitted (decision due by {app['deadline']})")
    for kind, lines in (("letter", ["Application letter (demo)", f"Application {app_id}",
                                    "Scenario: outpatient resource planning"]),
                        ("commitment", ["Commitment (demo)", "We develop only on the platform",
                                        "and release only what the reviewers sign."])):
        filed = applications.attach(acting["merchant"], app_id, kind, f"{kind}.pdf",
                                    io.BytesIO(demo_data.pdf(lines)))
        say(f"  the merchant filed its {kind} ({filed['size']} bytes)")
    rated = {"reasonableness": "pass", "compliance": "pass", "security": "pass"}
    applications.check(acting["provider"], app_id, visits, "agree", rated,
                       "字段与场景相符")
    say(f"The providing department agreed to {visits}'s part (核查)")
    grant_id = applications.decide(acting["reviewer"], app_id, True,
                                   "用途明确，字段最小化，同意", rated)["grant_id"]
    say(f"Application approved with its assessment (审核): grant {grant_id} for 12 months")
    accepted = applications.accept_agreement(acting["merchant"], grant_id)
    say(f"The merchant accepted the grant's operation agreement (格式协议, SHA-256 "
        f"{accepted['sha256'][:12]}…)")

    sql = DEMO_SQL.replace("hospital_visits", visits)
    trial = jobs.wait(acting["merchant"], jobs.submit(acting["merchant"], grant_id, sql,
                                                      "visits_by_month", "simulated")["id"])
    if trial["status"] != "succeeded":
        raise RuntimeError(f"demo job on simulated data failed: {trial['error']}")
    say(f"Job {trial['id']} tried the SQL on simulated data: {trial['output']['rows_text']} "
        "rows, visible to the merchant (simulated values)")
    # The merchant sees a real job's outcome at its rounded duration (sandbox.visibility).
    job = jobs.wait(acting["merchant"], jobs.submit(acting["merchant"], grant_id, sql,
                                                    "visits_by_month")["id"])
    job_id = job["id"]
    if job["status"] != "succeeded":
        raise RuntimeError(f"demo job failed: {job['error']}")
    say(f"Job {job_id} ran in the sandbox: {job['output']['rows_text']} rows (a band: the exact "
        "count of real data is not shown)")

    # Differential privacy: a count, mean fee and median fee per district with OpenDP noise,
    # spending epsilon 0.5 of the grant's budget (L3: 2.0).
    private = jobs.wait(acting["merchant"], jobs.submit_dp(acting["merchant"], grant_id, {
        "table": visits, "by": [{"column": "district"}], "epsilon": 0.5,
        "measures": [{"statistic": "count"},
                     {"statistic": "mean", "column": "fee", "lower": 0, "upper": 2000},
                     {"statistic": "quantile", "column": "fee", "lower": 0, "upper": 2000}]},
        "district_fees_dp")["id"])
    if private["status"] != "succeeded":
        raise RuntimeError(f"demo DP job failed: {private['error']}")
    budget = jobs.privacy_budget(acting["merchant"], grant_id)
    say(f"DP job {private['id']}: noisy count, mean and median fee per district (OpenDP, "
        f"epsilon {private['dp']['epsilon']:g}, delta 0); the grant's privacy budget: "
        f"{budget['spent']:g} of {budget['budget']:g} spent")

    req = egress.request(acting["merchant"], egress.Ask(
        job_id, "各区科室月度门诊量与平均费用统计表", "卫生资源规划", [visits]))
    egress_id = req["id"]
    say(f"Egress request {egress_id}: checks "
        f"{ {c['name']: c['verdict'] for c in req['checks']} }")
    for reviewer in ("reviewer", "reviewer2"):
        req = egress.vote(acting[reviewer], egress_id, egress.Ballot(
            "approve", "聚合统计，小格已抑制，无个人信息，同意出域", checklist=CHECKLIST))
    if req["release_id"] is None:
        raise RuntimeError(f"demo egress request ended {req['status']}, not released")
    release = egress.release(acting["merchant"], req["release_id"])
    bundle = home.data.fetch(release["path"])
    verified = verify_bundle(bundle, (home.keys_dir / "platform_ed25519.pub.pem").read_bytes())
    say(f"Released {release['product_no']} to {bundle}; verified: {verified['valid']}")
    # The release registered as a commercial product (Art. 27, 29): its price approved by
    # the administrator, a first sale booked and the year's operation report drawn.
    product = commerce.register(acting["merchant"], release["id"], "industry",
                                "按区县、科室的月度门诊量与平均费用统计，供卫生资源规划使用",
                                "copy", 50_000, "数据加工与人工审核成本")
    commerce.decide_price(acting["admin"], product["id"], True, "符合政府指导价")
    sale = commerce.book(acting["merchant"], "sale", "某市卫生规划研究院",
                         product_id=product["id"], quantity=2)
    annual_sales = commerce.annual_report(operator, time.gmtime().tm_year)["totals"]["income"]
    say(f"Product {product['id']} on sale at 500.00 per copy; first sale "
        f"{sale['amount_cents'] / 100:.2f}; income this year {annual_sales / 100:.2f}")
    at_rest = ledger.data_keys(operator)
    say(f"Encryption at rest: {at_rest['live']} data keys (L3 datasets, the grant, the egress "
        f"records) wrapped by master key {at_rest['master_kid']}")
    ledger_check = ledger.verify(operator)
    say(f"Ledger: {ledger_check['events']} events, valid: {ledger_check['valid']}")
    return {
        "home": str(home.root), "seconds": round(time.monotonic() - started, 2),
        "datasets": registered, "application_id": app_id, "grant_id": grant_id,
        "job_id": job_id, "job_rows": job["output"]["rows_text"], "egress_id": egress_id,
        "dp_job_id": private["id"], "dp_epsilon_spent": budget["spent"],
        "data_keys": at_rest["live"], "master_kid": at_rest["master_kid"],
        "product_no": release["product_no"], "release_id": release["id"],
        "product_id": product["id"], "sale_id": sale["id"], "qualification": qualified,
        "release_path": str(bundle), "release_verified": verified["valid"],
        "ledger_events": ledger_check["events"], "ledger_valid": ledger_check["valid"],
        "tokens": tokens,
        "console": {key: {"user": names[key], "password": passwords[key]} for key in acting},
    }
