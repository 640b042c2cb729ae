"""The web console: sign-in, sessions, CSRF, roles per page, organizations' walls, languages,
and that no page shows real rows of an unreleased output. (Journeys in a real browser are in
test_browser.py.)"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from accounts.sessions import WebSession
from accounts.users import User
from lineage.ledger import LedgerEvent
from service.api.app import create_app
from service.web import catalogs
from tests.conftest import COLUMNS, apply, register
from tests.helpers import read_stored
from tests.service.web_helpers import PASSWORD, console, csrf_of, set_passwords, sign_in

M, R, A, P, G = "merchant", "reviewer", "admin", "provider", "regulator"
EVERYONE = {M, R, A, P, G}
PEOPLE = {M, R, A}
READERS = PEOPLE | {G}  # the regulator reads, and changes nothing
PAGES = {
    "/catalog": EVERYONE, "/catalog/nope": EVERYONE, "/catalog/nope/preview": EVERYONE,
    "/applications": EVERYONE, "/applications/new": {M}, "/applications/999": EVERYONE,
    "/applications/999/attachments/1": EVERYONE,
    "/quality": EVERYONE, "/quality/new": {M}, "/quality/999": EVERYONE,
    "/cases": EVERYONE, "/cases/new": {M, P, R, A}, "/cases/999": EVERYONE,
    "/workspace": {M}, "/workspace/999": {M}, "/workspace/999/history": {M},
    "/jobs/999": READERS, "/jobs/999/status": READERS,
    "/egress": READERS, "/egress/new?job=999": {M}, "/egress/999": READERS,
    "/releases": READERS, "/releases/999": READERS, "/releases/999/download": {M},
    "/review": {R},
    "/provider": {P, A}, "/provider/register": {P, A}, "/provider/datasets/nope": {P, A},
    "/admin": {A, G}, "/admin/users": {A}, "/admin/policy": {A, G}, "/admin/ledger": {A, G},
    "/todo": EVERYONE, "/todo/badge": EVERYONE,
    "/admin/ledger/999": {A, G}, "/admin/lineage": {A, G}, "/admin/report": {A, G},
    "/admin/usage": {A, G}, "/admin/usage.csv": {A, G},
    "/admin/alerts": {A},
    "/products": READERS, "/products/999": READERS, "/books": {M, A, G},
    "/admin/annual": {A, G}, "/admin/annual.csv": {A, G}, "/admin/annual.xlsx": {A, G},
}


@pytest.fixture
def app(home, people):
    set_passwords(home, *people.tokens)
    return create_app(home, workers=0)


def test_sign_in_sets_a_strict_http_only_cookie_and_logs_the_event(app, home):
    client = TestClient(app)
    response = sign_in(client, M)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "tds_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # plain HTTP here; behind TLS it is Secure (next test)
    assert client.get("/catalog").status_code == 200
    with home.store.read() as s:
        assert s.scalar(select(LedgerEvent.action).order_by(LedgerEvent.seq.desc()).limit(1)) \
            == "user.signed_in"


def test_cookies_are_secure_behind_tls(app):
    # Directly over TLS, and behind a proxy that terminates TLS and says so.
    for base, headers in (("https://testserver", {}),
                          ("https://testserver", {"X-Forwarded-Proto": "https"})):
        client = TestClient(app, base_url=base)
        page = client.get("/sign-in", headers=headers)
        assert "Secure" in page.headers["set-cookie"]
        response = client.post("/sign-in", headers=headers, follow_redirects=False, data={
            "name": M, "password": PASSWORD, "csrf": csrf_of(page.text)})
        assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]
    proxied = TestClient(app).get("/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in proxied.headers["set-cookie"]


def test_a_wrong_password_is_refused_and_logged_without_the_password(app, home):
    client = TestClient(app)
    for name in (M, "nobody"):
        response = sign_in(client, name, "wrong password!")
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text and "tds_session" not in response.headers.get(
            "set-cookie", "")
    with home.store.read() as s:
        failed = s.execute(select(LedgerEvent.subject, LedgerEvent.payload).where(
            LedgerEvent.action == "auth.failed")).all()
    assert [subject for subject, _ in failed] == ["user:4", "user:unknown"]
    assert all("wrong password" not in p and "nobody" not in p for _, p in failed)
    assert client.get("/catalog", follow_redirects=False).status_code == 303


def test_sign_in_without_the_form_token_is_refused(app):
    client = TestClient(app)
    response = client.post("/sign-in", data={"name": M, "password": PASSWORD, "csrf": "x"},
                           follow_redirects=False)
    assert response.status_code == 403 and "tds_session" not in response.headers.get(
        "set-cookie", "")


def issued(response) -> str:
    return re.search(r"tds_session=([^;]+)", response.headers["set-cookie"]).group(1)


def test_a_planted_session_id_never_becomes_a_session(app):
    client = TestClient(app)
    client.cookies.set("tds_session", "attacker-chosen-value")
    assert client.get("/catalog", follow_redirects=False).status_code == 303
    first = issued(sign_in(client, M))
    assert first != "attacker-chosen-value"
    assert issued(sign_in(TestClient(app), M)) != first  # a new value at every sign-in
    attacker = TestClient(app)
    attacker.cookies.set("tds_session", "attacker-chosen-value")
    assert attacker.get("/catalog", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_on_the_server(app):
    client = console(app, M)
    old = client.cookies.get("tds_session")
    page = client.get("/catalog")
    out = client.post("/sign-out", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/sign-in")
    replay = TestClient(app)
    replay.cookies.set("tds_session", old)
    response = replay.get("/catalog", follow_redirects=False)
    assert response.status_code == 303 and "/sign-in" in response.headers["location"]


def test_an_idle_session_ends(app, home):
    client = console(app, M)
    idle = home.policy.web.idle_minutes
    with home.store.transaction() as s:
        s.execute(update(WebSession).values(
            last_seen=dt.datetime.now(dt.UTC).replace(tzinfo=None)
            - dt.timedelta(minutes=idle + 1)))
    response = client.get("/catalog", follow_redirects=False)
    assert response.status_code == 303 and "ended=1" in response.headers["location"]
    with home.store.read() as s:
        assert s.scalar(select(WebSession.id_hash)) is None  # deleted, not just refused
    assert "会话已结束" in client.get(response.headers["location"]).text


def test_forms_without_a_valid_csrf_token_are_refused_and_change_nothing(app, home, people,
                                                                         visits_file):
    register(home, people.provider, visits_file)
    client = console(app, M)
    form = {"scenario": "s", "description": "d", "purpose": "p", "products": "x",
            "months": "12", "col:visits:district": "on"}
    for token in (None, "forged", csrf_of(console(app, "merchant_b").get("/catalog").text)):
        data = form | ({"csrf": token} if token else {})
        response = client.post("/applications", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "安全令牌" in response.text  # says what to do: reload and retry
    assert "申请" in client.get("/applications").text
    with home.store.read() as s:
        assert s.scalar(select(LedgerEvent.seq).where(
            LedgerEvent.action == "application.submitted")) is None
    good = client.post("/applications", data=form | {"csrf": csrf_of(client.get("/catalog").text)},
                       follow_redirects=False)
    assert good.status_code == 303 and good.headers["location"].startswith("/applications/")


def test_every_page_checks_the_role_as_the_api_does(app):
    clients = {role: console(app, role) for role in (M, R, A, P, G)}
    anonymous = TestClient(app)
    for path, allowed in sorted(PAGES.items()):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/sign-in"), path
        for role, client in clients.items():
            response = client.get(path, follow_redirects=False)
            if role in allowed:
                assert response.status_code in (200, 404), (path, role, response.status_code)
            else:
                assert response.status_code == 403, (path, role, response.status_code)
                assert "需要以下角色" in response.text


def test_another_organization_cannot_open_anything_by_editing_the_url(app, home, people,
                                                                     grant_id):
    merchant = console(app, M)
    page = merchant.get(f"/workspace/{grant_id}")
    job = merchant.post(f"/workspace/{grant_id}/jobs", data={
        "csrf": csrf_of(page.text), "target": "real", "output_name": "by_district",
        "sql": "SELECT district, count(*) AS n FROM visits GROUP BY 1"}, follow_redirects=False)
    job_id = int(job.headers["location"].rsplit("/", 1)[1])
    home.run_job(job_id)
    csrf = csrf_of(merchant.get("/catalog").text)
    request = merchant.post("/egress", data={"csrf": csrf, "job_id": job_id, "product": "统计表",
                                             "purpose": "规划", "sources": "visits"},
                            follow_redirects=False)
    assert request.status_code == 303, request.text[:2000]
    request_id = request.headers["location"].split("?")[0].rsplit("/", 1)[1]
    other = console(app, "merchant_b")
    for path in (f"/workspace/{grant_id}", f"/jobs/{job_id}", f"/jobs/{job_id}/status",
                 f"/egress/{request_id}", f"/egress/new?job={job_id}", "/applications/1"):
        response = other.get(path)
        assert response.status_code == 404, path
        assert "不存在" in response.text  # the error page says what it means and what to do
    csrf_b = csrf_of(other.get("/catalog").text)
    for path in (f"/jobs/{job_id}/cancel", f"/egress/{request_id}/withdraw",
                 f"/workspace/{grant_id}/jobs"):
        assert other.post(path, data={"csrf": csrf_b, "sql": "SELECT 1", "output_name": "x"}
                          ).status_code == 404, path
    assert "by_district" not in other.get("/egress").text


def test_no_page_shows_the_rows_of_an_unreleased_real_output(app, home, people, grant_id):
    from sandbox import visibility
    from tests.helpers import set_policy

    set_policy(home, real_timing_seconds="1")  # the real job's outcome shows within a second
    merchant = console(app, M)
    csrf = csrf_of(merchant.get(f"/workspace/{grant_id}").text)
    sql = "SELECT 'ZQX' || CAST(sum(age) * 7919 AS VARCHAR) AS marker, district FROM visits GROUP BY 2"
    ids = {}
    for target in ("real", "simulated"):
        response = merchant.post(f"/workspace/{grant_id}/jobs", data={
            "csrf": csrf, "target": target, "output_name": f"m_{target}", "sql": sql},
            follow_redirects=False)
        ids[target] = int(response.headers["location"].rsplit("/", 1)[1])
        time.sleep(visibility.seconds_until_shown(home.policy, home.run_job(ids[target])))
    real = home.root / merchant_output(home, ids["real"])
    secrets_ = {str(v) for v in read_stored(home, real).column("marker").to_pylist()}
    simulated = merchant.get(f"/jobs/{ids['simulated']}").text
    assert "模拟数据" in simulated and "ZQX" in simulated  # simulated rows are shown, labelled
    request = merchant.post("/egress", data={"csrf": csrf, "job_id": ids["real"],
                                             "product": "p", "purpose": "q",
                                             "sources": "visits"})
    assert request.status_code == 200
    pages = [f"/jobs/{ids['real']}", f"/jobs/{ids['real']}/status", f"/workspace/{grant_id}",
             "/egress", f"/egress/new?job={ids['real']}", "/egress/1"]
    seen = [merchant.get(p).text for p in pages]
    for text in seen:
        assert not any(secret in text for secret in secrets_)
    assert "行数" in seen[0] and "marker" in seen[0]  # schema and row count are shown
    # The reviewers who sign it, and the platform's operators, read what they sign.
    for reader in (R, A):
        page = console(app, reader).get("/egress/1").text
        assert 'id="values"' in page and any(secret in page for secret in secrets_)


def merchant_output(home, job_id):
    from sandbox.models import Job

    with home.store.read() as s:
        return s.get(Job, job_id).output_path


def test_language_defaults_to_chinese_and_switches_to_english(app):
    client = console(app, M)
    assert "数据目录" in client.get("/catalog").text
    switched = client.get("/lang/en?next=/catalog", follow_redirects=False)
    assert switched.headers["location"] == "/catalog"
    client.cookies.set("tds_lang", "en")
    page = client.get("/catalog").text
    assert "Catalog of public data" in page and '<html lang="en">' in page
    assert client.get("/lang/en?next=https://evil.example/", follow_redirects=False
                      ).headers["location"] == "/"  # no open redirect
    assert client.get("/lang/en?next=//evil.example/", follow_redirects=False
                      ).headers["location"] == "/"


def translations(lang: str) -> dict[str, object]:
    from babel.messages.pofile import read_po

    with catalogs.po_path(lang).open("rb") as handle:
        po = read_po(handle, locale=lang)
    return {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in po if m.id}


def test_every_message_has_chinese_and_every_identifier_an_english_label():
    used = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogs.extract() if m.id}
    chinese, english = translations("zh_CN"), translations("en")
    assert used - set(chinese) == set(), "run python -m service.web.catalogs"
    assert [m for m in used if not chinese[m] or chinese[m] == ("",)] == []
    assert [m for m in used if catalogs.needs_label(m) and not english.get(m)] == []
    assert "raw_exposure" in used and english["raw_exposure"] == "raw exposure"


def test_every_policy_section_has_a_label_in_both_languages():
    from policies.sections import SECTIONS
    from service.web.vocabulary import POLICY_SECTIONS

    chinese, english = translations("zh_CN"), translations("en")
    for section in SECTIONS:
        key = f"section:{section.NAME}"
        assert key in POLICY_SECTIONS and chinese.get(key) and english.get(key), key


def test_pages_carry_security_headers_and_api_errors_stay_problem_json(app):
    client = console(app, M)
    page = client.get("/catalog")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # no inline script: the CSP would block it
    assert client.get("/static/htmx.min.js").status_code == 200
    missing = client.get("/catalog/nope")
    assert missing.status_code == 404 and "text/html" in missing.headers["content-type"]
    api = client.get("/api/v1/datasets/nope")
    assert api.status_code == 401 and api.headers["content-type"] == "application/problem+json"


def test_the_admin_creates_a_user_who_signs_in_and_is_disabled(app, home):
    admin = console(app, A)
    csrf = csrf_of(admin.get("/admin/users").text)
    created = admin.post("/admin/users", data={"csrf": csrf, "name": "wang", "role": "merchant",
                                               "org": "新公司", "password": "short"})
    assert created.status_code == 422 and "密码至少需要 10 个字符" in created.text
    with home.store.read() as s:  # refused as a whole: no user without its password
        assert s.scalar(select(User.id).where(User.name == "wang")) is None
    created = admin.post("/admin/users", data={"csrf": csrf, "name": "wang", "role": "merchant",
                                               "org": "新公司", "password": "a long password"})
    # The answer redirects (a reload posts nothing again); the next page shows the token once.
    assert created.status_code == 200 and created.history[0].status_code == 303
    assert str(created.url).endswith("/admin/users?done=user_added")
    token = re.search(r'id="new-token">([^<]+)<', created.text).group(1)
    assert token.startswith("tds_")
    assert token not in admin.get("/admin/users?done=user_added").text
    assert token not in admin.get("/admin/users").text
    wang = console_with(app, "wang", "a long password")
    assert wang.get("/catalog").status_code == 200
    admin.post("/admin/users/wang/status", data={"csrf": csrf, "active": "no"})
    assert wang.get("/catalog", follow_redirects=False).status_code == 303
    assert TestClient(app).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                               ).status_code == 401


def test_a_new_users_token_waits_for_the_next_page_sealed_by_the_session(app, home):
    from accounts.sessions import WebSession

    admin = console(app, A)
    csrf = csrf_of(admin.get("/admin/users").text)
    answer = admin.post("/admin/users", data={"csrf": csrf, "name": "li", "role": "reviewer",
                                              "org": "审核组"}, follow_redirects=False)
    assert answer.status_code == 303
    with home.store.read() as s:
        sealed = [w.flash for w in s.scalars(select(WebSession)) if w.flash]
    assert len(sealed) == 1
    # Sealed: neither the token nor the name is readable in what the store holds (random
    # base64 text may spell "li" by chance, so the test reads the decoded bytes).
    raw = base64.b64decode(sealed[0])
    assert b"tds_" not in raw and b'"li"' not in raw and b"token" not in raw
    stranger = console(app, A)  # the same admin in another session does not see it
    assert "new-token" not in stranger.get("/admin/users?done=user_added").text
    assert "new-token" in admin.get("/admin/users?done=user_added").text


def test_the_admin_sees_and_acknowledges_security_alerts(app, home, people, grant_id):
    from sandbox import jobs
    from tests.helpers import set_policy

    set_policy(home, real_jobs_per_grant_day="2")
    for i in range(2):
        with home.store.transaction() as s:
            jobs.submit(s, people.merchant, home.policy, home.data, grant_id, f"SELECT {i} AS v",
                        f"o{i}")
    admin = console(app, A)
    page = admin.get("/admin/alerts")
    assert "真实数据作业额度已用尽" in page.text and "标记为已处理" in page.text
    done = admin.post("/admin/alerts/1/ack", data={"csrf": csrf_of(page.text)},
                      follow_redirects=False)
    assert done.status_code == 303
    assert "标记为已处理" not in admin.get("/admin/alerts").text
    with home.store.read() as s:
        assert s.scalar(select(LedgerEvent.action).order_by(LedgerEvent.seq.desc()).limit(1)) \
            == "security.alert_acknowledged"


def console_with(app, name, password):
    client = TestClient(app)
    assert sign_in(client, name, password).status_code == 303
    return client


def test_monitoring_draws_the_indicators_over_time(app, home, people, visits_file):
    register(home, people.provider, visits_file)
    apply(home, people.merchant, columns=COLUMNS)
    TestClient(app).post("/sign-in", data={"name": M, "password": "x", "csrf": "x"})
    page = console(app, A).get("/admin").text
    for group in ("授权程序", "资源供给", "运营成效", "数据安全"):
        assert group in page
    assert page.count("<svg") >= 5 and "<circle" in page


def test_a_job_runs_from_the_editor_and_its_status_updates_itself(app, home, grant_id):
    with TestClient(create_app(home, workers=1)) as lifespan:
        merchant = console(lifespan.app, M)
        page = merchant.get(f"/workspace/{grant_id}")
        fragment = merchant.post(f"/workspace/{grant_id}/jobs", headers={
            "HX-Request": "true", "X-CSRF-Token": csrf_of(page.text)}, data={
            "target": "simulated", "output_name": "n", "sql": "SELECT count(*) AS n FROM visits"})
        assert fragment.status_code == 200 and 'hx-trigger="every 1s"' in fragment.text
        job_id = re.search(r'id="job-(\d+)"', fragment.text).group(1)
        deadline = time.monotonic() + 60
        while 'hx-trigger="every 1s"' in (status := merchant.get(f"/jobs/{job_id}/status").text):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert "成功" in status and "模拟数据" in status
        bad = merchant.post(f"/workspace/{grant_id}/jobs", headers={
            "HX-Request": "true", "X-CSRF-Token": csrf_of(page.text)}, data={
            "target": "real", "output_name": "x", "sql": "COPY visits TO '/tmp/x.csv'"})
        assert bad.status_code == 422 and "未完成" in bad.text
        assert fragment.headers["HX-Trigger"] == "job-submitted"


def test_a_draft_is_kept_from_its_page_and_the_history_refreshes_itself(app, home, grant_id):
    with TestClient(create_app(home, workers=1)) as lifespan:
        merchant = console(lifespan.app, M)
        page = merchant.get(f"/workspace/{grant_id}")
        assert 'data-needs="output_name"' in page.text  # a real run asks for a name in place
        job = merchant.post(f"/workspace/{grant_id}/jobs", data={
            "csrf": csrf_of(page.text), "target": "simulated", "output_name": "",
            "sql": "SELECT district FROM visits"}, follow_redirects=False)
        assert job.status_code == 303
        job_id = int(job.headers["location"].rsplit("/", 1)[1])
        history = merchant.get(f"/workspace/{grant_id}/history").text
        assert f"draft_{job_id}" in history and "草稿" in history
        deadline = time.monotonic() + 60
        while "every 2s" in history:  # polls itself while the job runs
            assert time.monotonic() < deadline
            time.sleep(0.2)
            history = merchant.get(f"/workspace/{grant_id}/history").text
        assert 'hx-swap-oob="true"' in history and f'data-insert="draft_{job_id}"' in history
        shown = merchant.get(f"/jobs/{job_id}").text
        assert "保留此草稿为" in shown
        taken = merchant.post(f"/jobs/{job_id}/keep", data={
            "csrf": csrf_of(shown), "output_name": "visits"})
        assert taken.status_code == 422 and "工作区中已有名为" in taken.text
        kept = merchant.post(f"/jobs/{job_id}/keep", data={
            "csrf": csrf_of(shown), "output_name": "districts"}, follow_redirects=False)
        assert kept.headers["location"] == f"/jobs/{job_id}?done=kept"
        assert 'data-insert="districts"' in merchant.get(f"/workspace/{grant_id}").text
        unnamed = merchant.post(f"/workspace/{grant_id}/jobs", data={
            "csrf": csrf_of(shown), "target": "real", "output_name": "",
            "sql": "SELECT district FROM visits"})
        assert unnamed.status_code == 422 and "在真实数据上运行需要输出名称" in unnamed.text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_a_redirect_target_is_always_a_path_on_this_site(target):
    from service.web.base import local_path

    result = local_path(target)
    assert result == "/" or result == target
    assert result.startswith("/") and not result.startswith("//") and "\\" not in result


def test_dates_are_shown_in_the_users_language_and_the_platforms_time_zone():
    from service.web import i18n

    i18n.current.set("zh_CN")
    assert i18n.when("2026-12-01T01:05:33Z", "Asia/Shanghai") == "2026年12月1日 09:05:33"
    assert i18n.when("2026-12-15", "America/New_York", with_time=False) == "2026年12月15日"
    i18n.current.set("en")
    assert i18n.when("2026-12-01T01:05:33Z", "Asia/Shanghai") == "Dec 1, 2026, 9:05:33\u202fAM" \
        or i18n.when("2026-12-01T01:05:33Z", "Asia/Shanghai") == "Dec 1, 2026, 9:05:33 AM"
    assert i18n.when(None, "Asia/Shanghai") == "—"


def test_the_lineage_page_lists_connections_and_explains_a_missing_graphviz(
        app, home, people, grant_id, tmp_path, monkeypatch):
    admin = console(app, "admin")
    node = "dataset_version:1"
    drawn = admin.get("/admin/lineage", params={"node": node}).text
    assert 'id="lineage-picture"' in drawn and 'id="no-graphviz"' not in drawn
    assert 'id="lineage-edges"' in drawn
    monkeypatch.setenv("PATH", str(tmp_path))  # a server without Graphviz's dot
    page = admin.get("/admin/lineage", params={"node": node}).text
    assert 'id="no-graphviz"' in page and 'id="lineage-picture"' not in page
    assert "graphviz" in page and 'id="lineage-edges" open' in page
    assert "数据集版本" in page  # the nodes in words


def test_providers_name_fields_and_merchants_find_datasets_by_them(app, home, visits_file):
    provider = console(app, P)
    form = provider.get("/provider/register").text
    assert 'name="department"' in form and 'name="field_names"' in form
    with visits_file.open("rb") as handle:
        provider.post("/provider/register", data={
            "csrf": csrf_of(form), "name": "visits", "title": "门诊记录", "domain": "health",
            "level": "L3", "attribute": "conditional", "department": "市卫生健康委员会",
            "update_frequency": "daily", "field_names": "fee=费用（元）\ndistrict=行政区"},
            files={"file": ("visits.parquet", handle, "application/octet-stream")})
    page = provider.get("/provider/datasets/visits").text
    assert 'name="field:fee" maxlength="100" value="费用（元）"' in page
    provider.post("/provider/datasets/visits", data={"csrf": csrf_of(page), "level": "L3",
                                                     "field:age": "年龄（岁）"})
    merchant = console(app, M)
    listing = merchant.get("/catalog", params={"q": "门诊 费用"}).text
    assert 'href="/catalog/visits"' in listing and "市卫生健康委员会" in listing and "每日" in listing
    assert 'href="/catalog/visits"' not in merchant.get("/catalog", params={"q": "企业"}).text
    shown = merchant.get("/catalog/visits").text
    assert "费用（元）" in shown and "年龄（岁）" in shown and "数源部门" in shown
    bad = provider.post("/provider/register", data={
        "csrf": csrf_of(form), "name": "x", "title": "x", "domain": "health", "level": "L1",
        "attribute": "open", "field_names": "no equals sign"},
        files={"file": ("x.parquet", visits_file.read_bytes(), "application/octet-stream")})
    assert bad.status_code == 422 and "字段中文名第 1 行" in bad.text


def test_the_header_counts_todos_and_the_todo_page_lists_them(app, home, people, visits_file):
    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant)
    reviewer = console(app, R)
    badge = reviewer.get("/todo/badge").text
    assert 'id="todo-count">1<' in badge and 'id="unread-count">1<' in badge
    page = reviewer.get("/todo").text
    assert 'data-kind="applications_to_review"' in page and "待审核的授权申请" in page
    assert f'href="/applications/{app_id}"' in page and 'class="unread"' in page
    reviewer.post("/todo/read", data={"csrf": csrf_of(page)})
    assert 'id="unread-count"' not in reviewer.get("/todo/badge").text
    bad = reviewer.post("/todo/email", data={"csrf": csrf_of(page), "email": "nope"})
    assert bad.status_code == 422 and "不是电子邮箱地址" in bad.text
    saved = reviewer.post("/todo/email", data={"csrf": csrf_of(page), "email": "li@example.com"})
    assert 'value="li@example.com"' in saved.text and "通知邮箱已保存" in saved.text
