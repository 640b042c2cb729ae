"""Journeys through the web console in a real browser: Playwright driving Debian's Chromium
(/usr/bin/chromium, installed by .ci/run) against `tds serve`'s app on a loopback port.

Each journey runs in zh-CN (the default) and once in English; screenshots of every main page
are written to test-artifacts/screenshots/<language>/ (TDS_ARTIFACTS overrides the folder).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn

from accounts.users import add_user
from egress.bundle import verify_bundle
from policies import OPERATOR
from service import demo_data
from service.api.app import create_app
from service.home import Home
from synth.identifiers import uscc
from tests.service.web_helpers import PASSWORD, set_passwords

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("TDS_CHROMIUM", "/usr/bin/chromium")
# The flags that keep Chromium from reaching for Google's services on this closed network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]
ARTIFACTS = Path(os.environ.get("TDS_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
USERS = {"admin": ("admin", None), "provider": ("provider", None),
         "merchant": ("merchant", "粤数科技"), "reviewer": ("reviewer", "数据管理局"),
         "reviewer2": ("reviewer", "数据管理局")}
WORDS = {  # what each language shows, to check the page is in the chosen one
    "zh_CN": {"simulated": "模拟数据", "succeeded": "成功", "left": "个工作日", "valid": "有效",
              "blind": "投票互不可见", "lineage": "血缘"},
    "en": {"simulated": "SIMULATED DATA", "succeeded": "succeeded", "left": "working days left",
           "valid": "valid", "blind": "Votes stay blind", "lineage": "Lineage"},
}
CHECKLIST_COMMENT = {"zh_CN": "已核对", "en": "checked"}
# The interface's own text on a page: text nodes and the attributes a user reads, leaving out
# data values, which pages mark `translate="no"` (names, titles, SQL, ids, comments) or show in
# code-like elements.
UI_TEXT_JS = """() => {
  const skip = "[translate=no], code, pre, script, style, textarea, kbd, samp, var, noscript";
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(skip) || !node.textContent.trim()) continue;
    out.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll("[placeholder], [title], [aria-label], img[alt]")) {
    if (el.closest(skip)) continue;
    for (const a of ["placeholder", "title", "aria-label", "alt"]) {
      const v = el.getAttribute(a); if (v && v.trim()) out.push(v.trim());
    }
  }
  return out;
}"""
# Words a Chinese page may show in Latin letters: names of formats, standards and units.
LATIN_OK = {"SQL", "CSV", "XLSX", "Parquet", "JSON", "API", "PII", "ID", "IDs", "DuckDB",
            "SHA", "HMAC", "Ed25519", "UTC", "Merkle", "Graphviz", "SVG", "PNG", "ZIP", "URL",
            "HTTP", "HTTPS", "HTML", "STARTTLS", "Markdown", "SMTP", "UTF", "GB", "IP", "CPU", "MB", "KB",
            "ms", "min", "NK", "SDV", "Presidio", "OpenDP", "ACRO", "OpenSAFELY", "SACRO", "Ctrl", "Enter",
            "Cmd", "Tab", "tds", "k", "p", "n", "ε", "δ", "CN", "Copula", "Gaussian", "GaussianCopula"}
LATIN = re.compile(r"[A-Za-z][A-Za-z_]+")
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]+")


def foreign_words(texts: list[str], lang: str) -> list[str]:
    """Pieces of interface text in the other language: Latin words on a Chinese page (outside
    ``LATIN_OK``), Chinese characters on an English page."""
    found = []
    for text in texts:
        if lang == "zh_CN":
            found += [w for w in LATIN.findall(text) if w not in LATIN_OK]
        else:
            found += CJK.findall(text)
    return found


@dataclass
class Site:
    lang: str
    url: str
    home: Home
    browser: object
    data: Path
    shots: Path
    pages: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)

    def page(self, user: str):
        """The signed-in page of ``user`` (a browser context of its own), in the site's language."""
        if user not in self.pages:
            context = self.browser.new_context(viewport={"width": 1280, "height": 800},
                                               accept_downloads=True,
                                               locale="zh-CN" if self.lang == "zh_CN" else "en-US")
            context.set_default_timeout(30_000)
            page = context.new_page()
            page.goto(self.url + "/sign-in")
            # No choice made yet: the page speaks the browser's language (Accept-Language).
            assert page.locator("html").get_attribute("lang") == (
                "en" if self.lang == "en" else "zh-CN")
            page.fill("#name", user)
            page.fill("#password", PASSWORD)
            page.click("form[action='/sign-in'] button[type=submit]")
            page.wait_for_load_state()
            assert "/sign-in" not in page.url, page.content()[:2000]
            self.pages[user] = page
        return self.pages[user]

    def shot(self, page, name: str, full: bool = True) -> None:
        """A screenshot of the page, after checking that its interface text is all in the
        site's language."""
        leaks = foreign_words(page.evaluate(UI_TEXT_JS), self.lang)
        assert not leaks, f"{name} ({page.url}) shows words of another language: {leaks}"
        page.screenshot(path=str(self.shots / f"{len(list(self.shots.iterdir())):02d}-{name}.png"),
                        full_page=full)

    def words(self, key: str) -> str:
        return WORDS[self.lang][key]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def playwright_browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM}: `bash .ci/run` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module", params=["zh_CN", "en"])
def site(request, tmp_path_factory, playwright_browser):
    lang = request.param
    root = tmp_path_factory.mktemp(f"site-{lang}")
    home = Home(root / "home")  # SQLite: the console is the same over either store
    home.init()
    with home.store.transaction() as session:
        for name, (role, org) in USERS.items():
            add_user(session, OPERATOR, name, role, org)
    set_passwords(home, *USERS)
    data = demo_data.write(demo_data.hospital_visits(400, seed=11), root / "visits.csv")
    app = create_app(home, workers=1)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    shots = ARTIFACTS / "screenshots" / lang
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    yield Site(lang, f"http://127.0.0.1:{port}", home, playwright_browser, data, shots)
    server.should_exit = True
    thread.join(timeout=30)
    home.store.dispose()


def test_provider_registers_a_dataset(site):
    page = site.page("provider")
    page.goto(site.url + "/provider/register")
    site.shot(page, "provider-register")
    page.set_input_files("#file", str(site.data))
    page.fill("#name", "visits")
    page.fill("#title", "门诊就诊记录")
    page.fill("#domain", "health")
    page.select_option("#level", "L3")
    page.fill("#description", "某市门诊就诊明细")
    page.fill("#department", "市卫生健康委员会")
    page.select_option("#update_frequency", "daily")
    page.fill("#field_names", "fee=费用（元）\ndistrict=行政区")
    page.click("#register button[type=submit]")
    page.wait_for_url(re.compile(r"/provider/datasets/visits"))
    # The scan's suggestions per column, with their share, to confirm or override.
    assert page.locator("#col-resident_id .suggested").get_attribute("data-entity") == \
        "CN_RESIDENT_ID"
    assert page.locator("#col-resident_id .suggested").inner_text() == {
        "zh_CN": "居民身份证号", "en": "Resident ID"}[site.lang]
    assert page.locator("#col-resident_id .share").inner_text() == "100%"
    assert page.locator("select[name='entity:patient_name']").input_value() == "PERSON"
    assert page.locator("input[name='field:fee']").input_value() == "费用（元）"
    page.fill("input[name='field:age']", "年龄")
    page.check("input[name='qi:age']")
    page.check("input[name='qi:district']")
    page.click("form[action='/provider/datasets/visits'] button[type=submit]")
    page.wait_for_url(re.compile(r"done=classified"))
    assert page.locator("input[name='qi:age']").is_checked()
    # The preview is built in the background; its part of the page updates by itself.
    page.locator(".simulated-label").wait_for(timeout=120_000)
    site.shot(page, "provider-classification")
    page.click("#consent-link")  # looked at, not turned on: the merchant's jobs see every row
    page.wait_for_url(re.compile(r"/provider/datasets/visits/consent"))
    assert page.locator("#consent-upload").count() == 1
    site.shot(page, "provider-consent")


def fill_application(page, columns, scenario, description, purpose, products, months):
    """The application form for columns of the visits, filled in (not sent)."""
    for column in columns:
        page.check(f"input[name='col:visits:{column}']")
    page.fill("#scenario", scenario)
    page.fill("#description", description)
    page.fill("#purpose", purpose)
    page.fill("#products", products)
    page.fill("#months", str(months))


def test_merchant_browses_the_preview_and_applies(site, tmp_path):
    page = site.page("merchant")
    page.goto(site.url + "/catalog")
    page.fill("input[name=q]", "门诊 费用")  # a title word and a Chinese field name
    page.click("form[role=search] button[type=submit]")
    assert "市卫生健康委员会" in page.locator("table").inner_text()
    site.shot(page, "merchant-catalog-search")
    page.click("a[href='/catalog/visits']")
    assert "费用（元）" in page.content()
    assert site.words("simulated") in page.locator(".simulated-label").inner_text()
    site.shot(page, "merchant-dataset-preview")
    page.set_viewport_size({"width": 390, "height": 844})
    site.shot(page, "merchant-dataset-narrow")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.click("a[href^='/applications/new']")
    fill_application(page, ("district", "department", "visit_date", "fee", "age"),
                     "门诊资源配置分析", "按区统计门诊量", "卫生资源规划", "各区门诊量统计表", 12)
    site.shot(page, "merchant-apply")
    page.click("form[action='/applications'] button[type=submit]")
    page.wait_for_url(re.compile(r"/applications/\d+"))
    assert site.words("left") in page.content()  # "N working days left"
    site.state["application"] = page.url.split("?")[0].rsplit("/", 1)[1]
    assert page.locator("#missing li[data-reason='attachment_missing']").count() == 2
    # The merchant files the application letter and the commitment from the page.
    for kind in ("letter", "commitment"):
        document = tmp_path / f"{kind}.pdf"
        document.write_bytes(demo_data.pdf([f"{kind} of the browser journey"]))
        page.select_option("#attach-kind", kind)
        page.set_input_files("#attach-file", str(document))
        page.click("#attach button[type=submit]")
        page.wait_for_url(re.compile(r"done=attached"))
    assert page.locator("#attachments tr[data-kind]").count() == 2
    assert page.locator("#missing li[data-reason='attachment_missing']").count() == 0
    site.shot(page, "merchant-application")


def rate(page, form, ratings=("pass", "pass", "pass")):
    for point, rating in zip(("reasonableness", "compliance", "security"), ratings, strict=True):
        page.select_option(f"#{form}-{point}", rating)


def test_provider_checks_its_datasets_part(site):
    page = site.page("provider")
    page.goto(site.url + "/todo")
    page.click("#todos tr[data-kind='applications_to_check'] a")
    page.click(f"a[href='/applications/{site.state['application']}']")
    rate(page, "check-visits", ("pass", "concern", "pass"))
    page.click("#check-visits button[value=agree]")  # a concern needs a comment: said in place
    page.locator("#check-visits .error").wait_for()
    page.fill("#check-visits-comment", "仅限卫生规划用途")
    page.click("#check-visits button[value=agree]")
    page.wait_for_url(re.compile(r"done=checked"))
    assert page.locator("#checks tr[data-dataset='visits'] .badge.agreed").count() == 1
    site.shot(page, "provider-application-checked")


def test_reviewer_approves_the_application(site):
    page = site.page("reviewer")
    page.goto(site.url + "/review")
    site.shot(page, "reviewer-queues")
    page.click(f"#application-queue a[href='/applications/{site.state['application']}']")
    assert page.locator("#missing").count() == 0
    page.fill("#comment", "符合最小必要原则")
    rate(page, "decision")
    page.click("button[value=approve]")
    page.wait_for_url(re.compile(r"done=decided"))
    assert page.locator("a[href^='/workspace/']").count() == 0  # reviewers have no workspace
    site.shot(page, "reviewer-application-approved")


def test_a_returned_application_is_amended_then_withdrawn_and_sent_once(site):
    merchant = site.page("merchant")
    merchant.goto(site.url + "/applications/new?dataset=visits")
    fill_application(merchant, ("district", "age"), "年龄结构分析", "按区统计年龄结构",
                     "养老服务规划", "各区年龄结构表", 6)
    # A double click sends the form once: one application, not two.
    merchant.dblclick("form[action='/applications'] button[type=submit]")
    merchant.wait_for_url(re.compile(r"/applications/\d+"))
    app_id = merchant.url.split("?")[0].rsplit("/", 1)[1]
    merchant.goto(site.url + "/applications")
    assert merchant.locator("tr", has_text="年龄结构分析").count() == 1
    reviewer = site.page("reviewer")
    reviewer.goto(site.url + "/todo")
    assert reviewer.locator("#todos tr[data-kind='applications_to_review']").count() == 1
    assert reviewer.locator("#todo-count").inner_text() != ""
    site.shot(reviewer, "reviewer-todo")
    reviewer.goto(site.url + f"/applications/{app_id}")
    assert "CN_RESIDENT_ID" not in reviewer.locator("#items").inner_text()  # words, not codes
    reviewer.click("button[value=return]")  # a return needs a comment: said in place
    assert reviewer.evaluate("document.getElementById('comment').validationMessage")
    assert "done=" not in reviewer.url
    reviewer.fill("#comment", "请补充年龄分段的口径说明")
    reviewer.click("button[value=return]")
    reviewer.wait_for_url(re.compile(r"done=decided"))
    merchant.goto(site.url + "/todo")
    assert merchant.locator("#notices tr.unread").count() >= 1
    assert merchant.locator("#todos tr[data-kind='applications_to_amend']").count() == 1
    site.shot(merchant, "merchant-todo")
    merchant.goto(site.url + f"/applications/{app_id}")
    site.shot(merchant, "merchant-application-returned")
    merchant.click(f"a[href='/applications/{app_id}/amend']")
    merchant.fill("#purpose", "养老服务规划（按五岁年龄组）")
    merchant.click("form.card button[type=submit]")
    merchant.wait_for_url(re.compile(r"done=amended"))
    merchant.once("dialog", lambda dialog: dialog.accept())
    merchant.click("#withdraw button")
    merchant.wait_for_url(re.compile(r"done=application_withdrawn"))
    site.shot(merchant, "merchant-application-withdrawn")


def run_job(page, site, sql: str, output: str, button: str) -> str:
    # The editor may still be loading after the click that opened it.
    page.locator("#run").wait_for(state="attached")
    page.evaluate("document.getElementById('run').innerHTML = ''")  # forget the last run
    page.fill("#sql", sql)
    page.fill("#output_name", output)
    page.click(button)
    status = page.locator("#run .card")
    status.wait_for()
    page.wait_for_function("() => !document.querySelector('#run [hx-trigger]')", timeout=90_000)
    text = page.locator("#run").inner_text()
    assert site.words("succeeded") in text, text
    return text


def test_merchant_runs_on_simulated_and_real_data_and_requests_egress(site):
    page = site.page("merchant")
    page.goto(site.url + "/workspace")
    page.click("table a[href^='/workspace/']")
    # The grant's operation agreement comes first; the editor opens once it is accepted.
    assert page.locator("#sql").count() == 0
    assert "粤数科技" in page.locator("#agreement pre").inner_text()
    site.shot(page, "merchant-agreement")
    page.click("#agreement button[type=submit]")
    page.wait_for_url(re.compile(r"done=agreement_accepted"))
    page.fill("#sql", "SELECT ")
    page.locator("#sql").press("End")
    page.click("a[data-insert='district']")  # names go in quoted, separated by commas
    page.click("a[data-insert='fee']")
    page.locator("#sql").press("End")
    page.locator("#sql").type(" FROM ")
    page.click("a[data-insert='visits']")
    assert page.locator("#sql").input_value() == 'SELECT "district", "fee" FROM "visits"'
    # A simulated run needs no name: Ctrl+Enter leaves a draft, which is kept under a name.
    page.fill("#output_name", "")
    page.locator("#sql").press("Control+Enter")
    page.wait_for_function("() => !document.querySelector('#run [hx-trigger]') && "
                           "document.querySelector('#run .card')", timeout=90_000)
    assert "draft_" in page.locator("#run").inner_text()
    # The history lists the draft without a reload.
    page.locator("#history td", has_text="draft_").first.wait_for()
    # A real run asks for a name in place, before anything is sent.
    page.click("#run-real")
    assert page.evaluate("document.getElementById('output_name').validationMessage")
    # The SQL survives leaving the page.
    page.reload()
    assert page.locator("#sql").input_value() == 'SELECT "district", "fee" FROM "visits"'
    page.goto(site.url + "/jobs/" + page.locator("#history a[href^='/jobs/']").first
              .get_attribute("href").rsplit("/", 1)[1])
    page.fill("form.keep input[name=output_name]", "district_fees")
    page.click("form.keep button")
    page.wait_for_url(re.compile(r"done=kept"))
    site.shot(page, "merchant-draft-kept")
    page.goto(site.url + "/workspace")
    page.click("table a[href^='/workspace/']")
    assert page.locator("a[data-insert='district_fees']").count() == 1
    sql = "SELECT district, count(*) AS visits, round(avg(fee), 2) AS avg_fee FROM visits GROUP BY 1"
    simulated = run_job(page, site, sql, "by_district_sim", "#run-simulated")
    assert site.words("simulated") in simulated and page.locator("#run .simulated tbody tr").count() > 0
    site.shot(page, "merchant-workspace-simulated")
    real = run_job(page, site, sql, "by_district", "#run-real")
    assert page.locator("#run .simulated").count() == 0  # real rows are counted, never shown
    assert page.locator("#run .rows").inner_text() == "10–99" and "avg_fee" in real  # a band
    site.shot(page, "merchant-workspace-real")
    # Followed by its address: a click can land while the status part is swapped in.
    page.goto(site.url + page.locator("#run a[href^='/egress/new']").get_attribute("href"))
    page.fill("#product", "各区门诊量统计表")
    page.fill("#purpose", "卫生资源规划")
    page.fill("#context", "各区门诊人次与平均费用")
    page.fill("#controls", "按区汇总，每格不少于 10 人")
    page.click("form[action='/egress'] button[type=submit]")
    page.wait_for_url(re.compile(r"/egress/\d+"))
    assert page.locator("#checks tr.check-pass").count() == 8
    site.state["egress"] = page.url.split("?")[0].rsplit("/", 1)[1]
    site.shot(page, "merchant-egress-request")
    # A finer table fails disclosure control: its flagged cells are highlighted, values hidden.
    page.goto(site.url + "/workspace")
    page.click("table a[href^='/workspace/']")
    run_job(page, site, "SELECT district, department, count(*) AS n FROM visits "
                        "GROUP BY ALL", "fine", "#run-real")
    page.goto(site.url + page.locator("#run a[href^='/egress/new']").get_attribute("href"))
    page.fill("#product", "各区门诊量统计表")
    page.fill("#purpose", "卫生资源规划")
    page.click("form[action='/egress'] button[type=submit]")
    page.wait_for_url(re.compile(r"/egress/\d+"))
    assert page.locator("#checks tr.check-fail").count() >= 1
    assert page.locator("#cells td.cell-fail").count() >= 1
    site.shot(page, "merchant-egress-flagged-cells")
    page.fill("#reason", "改用更粗的分组")
    page.click("form[action$='/withdraw'] button")
    page.wait_for_url(re.compile(r"done=withdrawn"))


def test_two_reviewers_vote_blind_and_the_second_approval_releases(site):
    request = site.state["egress"]
    for n, reviewer in enumerate(("reviewer", "reviewer2")):
        page = site.page(reviewer)
        page.goto(site.url + "/review")
        page.click(f"#egress-queue a[href='/egress/{request}']")
        if n == 1:
            assert site.words("blind") in page.content()  # the first vote is not shown yet
        assert "每格不少于 10 人" in page.locator("#controls").inner_text()
        for select in page.locator("#vote select").all():
            select.select_option("yes")
        for note in page.locator("#vote input[name^='note:']").all():
            note.fill(CHECKLIST_COMMENT[site.lang])
        page.fill("#comment", "聚合统计，同意出域")
        site.shot(page, f"{reviewer}-vote")
        page.click("#vote button[value=approve]")
        page.wait_for_url(re.compile(r"done=voted"))
    assert page.locator("a[href^='/releases/']").count() >= 1
    site.shot(page, "reviewer2-released")


def test_merchant_downloads_and_verifies_the_release(site, tmp_path):
    page = site.page("merchant")
    page.goto(site.url + "/releases")
    page.click("table a[href^='/releases/']")
    assert site.words("valid") in page.locator("#verification .badge").inner_text()
    assert page.locator("#released tbody tr").count() >= 1  # the released table, paged
    site.shot(page, "merchant-release")
    with page.expect_download() as table:
        page.click("#download-csv")
    table.value.save_as(tmp_path / "table.csv")
    assert (tmp_path / "table.csv").read_text(encoding="utf-8-sig").startswith("district,")
    with page.expect_download() as download:
        page.click("#download")
    target = tmp_path / "bundle.zip"
    download.value.save_as(target)
    zipfile.ZipFile(target).extractall(tmp_path / "bundle")
    (folder,) = list((tmp_path / "bundle").iterdir())
    verified = verify_bundle(folder)
    assert verified["valid"] and verified["logged"], verified["problems"]


def test_admin_verifies_the_ledger_and_opens_the_lineage_picture(site):
    page = site.page("admin")
    page.goto(site.url + "/admin/ledger")
    page.click("#verification a")
    assert site.words("valid") in page.locator("#verification .badge").inner_text()
    site.shot(page, "admin-ledger")
    page.fill("input[name=action]", "release.*")
    page.click("form.filters button[type=submit]")
    page.click("#events a")
    assert "checkpoint" in page.locator("#proof").inner_text()
    site.shot(page, "admin-ledger-event")
    page.goto(site.url + "/admin/lineage?node=release:1")
    picture = page.locator("#lineage-picture")
    picture.wait_for()
    page.wait_for_function("() => document.getElementById('lineage-picture').naturalWidth > 0")
    site.shot(page, "admin-lineage")
    # Adding a user answers with a redirect: the token shows once, a reload posts nothing.
    page.goto(site.url + "/admin/users")
    page.fill("#name", "zhao")
    page.select_option("#role", "merchant")
    page.fill("#org", "新公司")
    page.click("form[action='/admin/users'] button[type=submit]")
    page.wait_for_url(re.compile(r"done=user_added"))
    assert page.locator("#new-token").inner_text().startswith("tds_")
    page.reload()
    assert page.locator("#new-token").count() == 0
    for path, name in (("/admin", "admin-monitoring"), ("/admin/users", "admin-users"),
                       ("/admin/policy", "admin-policy"), ("/admin/report", "admin-report"),
                       ("/todo", "admin-todo")):
        page.goto(site.url + path)
        assert page.locator("h1").count() == 1
        site.shot(page, name)
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if site.lang == "zh_CN" else "en")



def test_merchant_sells_its_release_and_the_admin_reads_the_year(site):
    page = site.page("merchant")
    page.goto(site.url + "/products")
    page.select_option("#category", "industry")
    page.fill("#description", "区县门诊统计服务")
    page.select_option("#unit", "copy")
    page.fill("#price", "500.00")
    page.fill("#basis", "计算资源与人工成本")
    site.shot(page, "merchant-products")
    page.click("#register-product button[type=submit]")
    page.wait_for_url(re.compile(r"/products/\d+\?done=product_registered"))
    product = page.url.split("?")[0]
    admin = site.page("admin")
    admin.goto(product)
    admin.fill("#note", "符合政府指导价")
    admin.click("#decide-price button[value=approve]")
    admin.wait_for_url(re.compile(r"done=price_decided"))
    site.shot(admin, "admin-product-priced")
    page.goto(product)
    page.fill("#quantity", "2")
    page.fill("#buyer", "某市卫生规划研究院")
    page.click("#book-sale button[type=submit]")
    page.wait_for_url(re.compile(r"done=sale_booked"))
    assert page.locator("#product-books tbody tr").count() == 1
    site.shot(page, "merchant-product-sold")
    admin.goto(site.url + "/admin/annual")
    assert admin.locator("#income").inner_text().startswith("1000.00")
    site.shot(admin, "admin-annual")
    # The merchant's organization applies for qualification; the administrator notices it.
    page.goto(site.url + "/qualifications")
    page.fill("#credit_code", uscc(random.Random(9), "440100"))
    page.fill("#legal_representative", "陈明")
    page.fill("#security_officer", "林晓")
    for box, words in (("#good_standing", "无重大违法记录"), ("#capability", "专职团队"),
                       ("#security_management", "设数据安全部"), ("#data_management", "通过评估")):
        page.fill(box, words)
    site.shot(page, "merchant-qualification")
    page.click("#apply-qualification button[type=submit]")
    page.wait_for_url(re.compile(r"done=qualification_submitted"))
    admin.goto(site.url + "/qualifications")
    admin.click("form[id^=review-] button[value=approve]")
    admin.wait_for_url(re.compile(r"done=qualification_reviewed"))
    assert admin.locator("td[data-status=in_notice]").count() == 1
    site.shot(admin, "admin-qualifications")
    visitor = site.browser.new_page(locale="zh-CN" if site.lang == "zh_CN" else "en-US")
    for path, name in (("/public/products", "public-products"),
                       ("/public/annual", "public-annual"),
                       ("/public/operators", "public-operators")):
        visitor.goto(site.url + path)
        assert visitor.locator("h1").count() == 1
        site.shot(visitor, name)
    assert "某市卫生规划研究院" not in visitor.content()
    visitor.close()


def test_the_language_check_catches_words_of_the_other_language():
    assert foreign_words(["提交申请", "上传 CSV 文件", "Submit 申请"], "zh_CN") == ["Submit"]
    assert foreign_words(["Submit", "Upload a CSV file"], "en") == []
    assert foreign_words(["Submit 提交"], "en") == ["提交"]
