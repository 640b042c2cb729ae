"""Data-quality issues in the console: a merchant reports one from a dataset's page, the
providing department answers it and closes it with a new version."""

from __future__ import annotations

import re

from service.api.app import create_app
from tests.conftest import register
from tests.service.web_helpers import console, csrf_of, set_passwords


def test_a_merchant_reports_an_issue_and_the_department_fixes_it(home, people, visits_file):
    set_passwords(home, *people.tokens)
    register(home, people.provider, visits_file)
    app = create_app(home, workers=0)
    merchant, provider = console(app, "merchant"), console(app, "provider")
    assert 'href="/quality/new?dataset=visits"' in merchant.get("/catalog/visits").text
    form = merchant.get("/quality/new?dataset=visits").text
    assert 'value="fee"' in form
    bad = merchant.post("/quality", data={"csrf": csrf_of(form), "dataset": "visits",
                                          "kind": "wrong_values", "columns": ["fee"],
                                          "description": ""}, follow_redirects=False)
    assert bad.status_code == 422 and 'role="alert"' in bad.text and 'value="fee" checked' in bad.text
    made = merchant.post("/quality", data={"csrf": csrf_of(form), "dataset": "visits",
                                           "kind": "wrong_values", "columns": ["fee"],
                                           "description": "部分费用为负数"},
                         follow_redirects=False)
    assert made.status_code == 303
    page = made.headers["location"].split("?")[0]
    assert "部分费用为负数" in merchant.get(page).text
    assert 'id="answer"' not in merchant.get(page).text
    listed = provider.get("/quality").text
    assert f'href="{page}"' in listed
    assert console(app, "provider_b").get(page).status_code == 404
    html = provider.get(page).text
    assert 'id="answer"' in html and 'value="fix"' not in html  # no newer version yet
    empty = provider.post(f"{page}/answer", data={"csrf": csrf_of(html), "decision": "reject",
                                                  "reply": ""}, follow_redirects=False)
    assert empty.status_code == 422 and 'role="alert"' in empty.text
    done = provider.post(f"{page}/answer", data={"csrf": csrf_of(html),
                                                 "decision": "acknowledge",
                                                 "reply": "已核实，下月更正"},
                         follow_redirects=False)
    assert done.status_code == 303
    register(home, people.provider, visits_file)  # the corrected version 2
    html = provider.get(page).text
    assert re.search(r'<option value="2">2</option>', html)
    fixed = provider.post(f"{page}/answer", data={"csrf": csrf_of(html), "decision": "fix",
                                                  "version": "2", "reply": ""},
                          follow_redirects=False)
    assert fixed.status_code == 303
    html = merchant.get(page).text
    assert "badge fixed" in html and "已核实，下月更正" in html
