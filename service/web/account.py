"""Sign-in, sign-out, the language switch and each role's start page."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accounts.sessions import sign_in, sign_out
from policies import Role
from service.limits import RateLimited
from service.web import i18n
from service.web.base import (
    COOKIE,
    LOGIN_CSRF,
    Member,
    back,
    home_of,
    local_path,
    member,
    render,
)
from service.web.vocabulary import N_

router = APIRouter()
START = {Role.MERCHANT: "/catalog", Role.REVIEWER: "/review", Role.PROVIDER: "/provider",
         Role.ADMIN: "/admin"}


def _secure(request: Request) -> bool:
    """Cookies are Secure behind TLS (directly or through a proxy that says so)."""
    return request.url.scheme == "https" or \
        request.headers.get("x-forwarded-proto", "").lower() == "https"


@router.get("/", include_in_schema=False)
def start(m: Annotated[Member, Depends(member())]) -> RedirectResponse:
    return RedirectResponse(START[m.actor.role], status_code=303)


@router.get("/sign-in", response_class=HTMLResponse, include_in_schema=False)
def sign_in_page(request: Request, next: str = "/") -> HTMLResponse:
    # Double-submit token: a site that cannot read our cookie cannot sign a user in (login CSRF).
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", next=local_path(next), token=token,
                      error="", ended=request.query_params.get("ended") == "1")
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict", path="/sign-in",
                        secure=_secure(request))
    return response


@router.post("/sign-in", include_in_schema=False)
def sign_in_submit(request: Request, name: Annotated[str, Form(max_length=200)],
                   password: Annotated[str, Form(max_length=1000)],
                   csrf: Annotated[str, Form(max_length=100)] = "",
                   next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not hmac.compare_digest(csrf, expected):
        return render(request, "sign_in.html", next=local_path(next), token=expected,
                      error=N_("The sign-in form expired. Please try again."), ended=False,
                      status=403)
    home = home_of(request)
    limits = request.app.state.limits.sign_in_failures
    keys = (f"ip:{request.client.host if request.client else '?'}", f"name:{name.strip()[:63]}")
    if wait := max(limits.wait(key) for key in keys):
        # Refused before the password is even checked: guessing gains nothing while it waits.
        raise RateLimited(f"too many failed sign-ins: wait {wait} s and try again", wait)
    with home.store.transaction() as session:
        signed = sign_in(session, name.strip(), password)
    if signed is None:
        for key in keys:
            limits.hit(key)
        response = render(request, "sign_in.html", next=local_path(next), token=expected,
                          error=N_("The user name or password is wrong, or the user is disabled."),
                          ended=False, status=401)
        return response
    response = RedirectResponse(local_path(next), status_code=303)
    # Always a fresh value: whatever session cookie the browser had before is replaced.
    response.set_cookie(COOKIE, signed.cookie or "", httponly=True, samesite="strict", path="/",
                        secure=_secure(request))
    response.delete_cookie(LOGIN_CSRF, path="/sign-in")
    return response


@router.post("/sign-out", include_in_schema=False)
def sign_out_submit(request: Request, _m: Annotated[Member, Depends(member())]) -> Response:
    home = home_of(request)
    with home.store.transaction() as session:
        sign_out(session, request.cookies.get(COOKIE))
    response = RedirectResponse("/sign-in?done=signed_out", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> RedirectResponse:
    """Browsers ask for /favicon.ico before reading the page's icon link."""
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/lang/{code}", include_in_schema=False)
def switch_language(code: str, next: str = "/") -> Response:
    """Remember the language in a cookie (it changes nothing on the server)."""
    response = back(local_path(next))
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
