"""Appeals in the console: a merchant appeals a rejection from the application's page, an
administrator upholds it, and the application is in review again."""

from __future__ import annotations

from catalog import applications
from service.api.app import create_app
from tests.conftest import apply, register
from tests.service.web_helpers import console, csrf_of, set_passwords


def test_a_merchant_appeals_and_the_administrator_upholds(home, people, visits_file):
    set_passwords(home, *people.tokens)
    register(home, people.provider, visits_file)
    app_id = apply(home, people.merchant)
    with home.store.transaction() as s:
        applications.decide(s, people.reviewer, home.policy, app_id, "reject", "不符合")
    app = create_app(home, workers=0)
    merchant, admin = console(app, "merchant"), console(app, "admin")
    page = merchant.get(f"/applications/{app_id}").text
    assert f"subject=application:{app_id}" in page
    form = merchant.get(f"/cases/new?kind=appeal&subject=application:{app_id}").text
    assert f'value="application:{app_id}"' in form
    bad = merchant.post("/cases", data={"csrf": csrf_of(form), "kind": "appeal",
                                        "subject": f"application:{app_id}", "title": "",
                                        "description": "理由"}, follow_redirects=False)
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    made = merchant.post("/cases", data={"csrf": csrf_of(form), "kind": "appeal",
                                         "subject": f"application:{app_id}", "title": "申诉",
                                         "description": "用途已在附件说明"},
                         follow_redirects=False)
    assert made.status_code == 303
    case = made.headers["location"].split("?")[0]
    assert console(app, "merchant_b").get(case).status_code == 404
    assert console(app, "regulator").get(case).status_code == 200
    html = admin.get(case).text
    assert 'id="handle"' in html and 'id="handle"' not in merchant.get(case).text
    done = admin.post(f"{case}/handle", data={"csrf": csrf_of(html), "step": "uphold",
                                             "text": "驳回理由不充分，重新审核"},
                      follow_redirects=False)
    assert done.status_code == 303
    assert "badge upheld" in merchant.get(case).text
    assert "badge submitted" in merchant.get(f"/applications/{app_id}").text
