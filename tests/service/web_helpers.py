"""Signing in to the console from tests (TestClient; the browser tests use Playwright)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from accounts.passwords import set_password
from policies import OPERATOR
from service.home import Home

PASSWORD = "correct horse battery"


def set_passwords(home: Home, *names: str) -> None:
    with home.store.transaction() as session:
        for name in names:
            set_password(session, OPERATOR, home.policy, name, PASSWORD)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def post_form(client: TestClient, path: str, data: dict, page: str, **kwargs):
    """Send a console form to ``path`` with the CSRF token of the page it is on (``page``);
    the answer as it comes, redirects not followed."""
    return client.post(path, data={"csrf": csrf_of(client.get(page).text), **data},
                       follow_redirects=False, **kwargs)


def sign_in(client: TestClient, name: str, password: str = PASSWORD):
    page = client.get("/sign-in")
    return client.post("/sign-in", data={"name": name, "password": password,
                                          "csrf": csrf_of(page.text), "next": "/"},
                       follow_redirects=False)


def console(app, name: str) -> TestClient:
    """A client signed in as ``name`` (its own cookie jar); the app's lifespan is not entered."""
    client = TestClient(app, base_url="http://testserver")
    response = sign_in(client, name)
    assert response.status_code == 303, response.text[:500]
    return client
