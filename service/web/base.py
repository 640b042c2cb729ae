"""What every console page shares: the signed-in member, CSRF, language, rendering."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import BackgroundTasks, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from accounts.sessions import Signed, lookup, put_flash, take_flash
from actions import Context, Dispatcher
from catalog.workdays import working_days_between
from commerce.money import decimal
from policies import Actor, Forbidden, Role
from policies.errors import DomainError
from policies.permissions import Action, roles_for
from service import form_keys
from service.home import Home
from service.web import i18n, words
from service.web.vocabulary import DOMAIN_LABELS, N_

COOKIE = "tds_session"
LOGIN_CSRF = "tds_login_csrf"


class SignInRequired(DomainError):
    kind = "unauthenticated"


class StaleForm(DomainError):
    """A form without its session's CSRF token (forged, or older than the session)."""

    kind = "forbidden"


env = Environment(loader=PackageLoader("service.web", "templates"),
                  autoescape=select_autoescape(default=True, default_for_string=True),
                  extensions=["jinja2.ext.i18n"],
                  trim_blocks=True, lstrip_blocks=True)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
env.globals["languages"] = i18n.LANGUAGES
env.filters["number"] = i18n.number
env.filters["money"] = lambda amount: decimal(amount) if isinstance(amount, int) else ""
env.filters["t"] = i18n.gettext
env.filters.update(words.FILTERS)
env.globals["known_domains"] = [label.split(":", 1)[1] for label in DOMAIN_LABELS]


@dataclass(frozen=True)
class Member:
    """The signed-in user of a console request."""

    actor: Actor
    csrf: str

    @property
    def role(self) -> str:
        return self.actor.role.value


def home_of(request: Request) -> Home:
    return request.app.state.home


def context(request: Request, m: Member, background: BackgroundTasks | None = None) -> Context:
    """The context of the member's actions: the job pool of this process is woken after a
    commit; work deferred to ``background`` runs after the response (else at once)."""
    pool = getattr(request.app.state, "pool", None)
    return Context.of(home_of(request), m.actor, Dispatcher(
        wake=pool.wake if pool is not None else (lambda: None),
        later=background.add_task if background is not None else None))


def language(request: Request) -> str:
    """The language the user chose (a cookie); before any choice, the first of the browser's
    languages the console speaks; else the policy's default."""
    return i18n.choose(request.cookies.get(i18n.COOKIE),
                       i18n.accepted(request.headers.get("accept-language"))
                       or home_of(request).policy.web.default_language)


def _signed(request: Request) -> Signed:
    home = home_of(request)
    cookie = request.cookies.get(COOKIE)
    with home.store.read() as session:
        signed, touched = lookup(session, home.policy, cookie)
    if touched:  # renew the idle clock (or delete the expired session) in a short write
        with home.store.transaction() as session:
            signed, _ = lookup(session, home.policy, cookie)
    if signed is None:
        if not cookie:
            raise SignInRequired("sign in to continue")
        raise SignInRequired("your session has ended; sign in again")
    return signed


def flash(request: Request, value: dict[str, Any]) -> None:
    """Keep ``value`` for the next page this session opens (after a redirect)."""
    with home_of(request).store.transaction() as session:
        put_flash(session, request.cookies.get(COOKIE), value)


def flashed(request: Request) -> dict[str, Any] | None:
    """What the previous answer kept for this page, read once."""
    with home_of(request).store.transaction() as session:
        return take_flash(session, request.cookies.get(COOKIE))


class AlreadySent(Exception):
    """A form submitted again: the answer is the page its first submission led to."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


async def _member(request: Request, signed: Annotated[Signed, Depends(_signed)]) -> Member:
    if request.method not in ("GET", "HEAD"):
        sent = request.headers.get("x-csrf-token")
        form = (await request.form() if request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")) else None)
        if sent is None and form is not None:
            value = form.get("csrf")
            sent = value if isinstance(value, str) else None
        if not sent or not hmac.compare_digest(sent, signed.csrf):
            raise StaleForm("the form's security token is missing or out of date: "
                           "reload the page and try again")
        key = form.get(FORM_KEY) if form is not None else None
        if isinstance(key, str) and form_keys.well_formed(key):
            location = await asyncio.to_thread(form_keys.reserve, home_of(request).store, key,
                                               signed.actor.id)
            if location is not None:
                raise AlreadySent(location)
            request.state.form_key = key  # settled by the FormKeys middleware
    return Member(signed.actor, signed.csrf)


async def _form(request: Request) -> FormData:
    return await request.form()  # parsed once per request (the CSRF check may have read it)


# A form's fields, for handlers that are plain functions: FastAPI runs those in its thread
# pool, so the store, the scans and the checks they call never block the event loop.
Form = Annotated[FormData, Depends(_form)]


def member(*allowed: Role | Action):
    """A dependency: the signed-in member, whose role must be one of ``allowed`` or one the
    permission table allows an action of ``allowed`` (the API's rule); none: any member."""
    roles = {r for a in allowed for r in (roles_for(a) if isinstance(a, Action) else (a,))}

    async def dependency(m: Annotated[Member, Depends(_member)]) -> Member:
        if roles and m.actor.role not in roles:
            names = ", ".join(r.value for r in Role if r in roles)
            raise Forbidden("this page needs the role {roles}; you are {role}",
                            roles=names, role=m.actor.role.value)
        return m
    return dependency


FORM_KEY = "form_key"


def new_form_key() -> str:
    return secrets.token_hex(16)


def render(request: Request, name: str, m: Member | None = None, status: int = 200,
           **context: Any) -> HTMLResponse:
    home = home_of(request)
    lang = language(request)
    i18n.current.set(lang)
    zone = home.policy.web.timezone
    page = env.get_template(name).render(
        request=request, me=m, lang=lang, path=request.url.path,
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        limits=home.policy.text, names=home.policy.catalog.max_name_length,
        title_length=home.policy.catalog.max_title_length,
        when=lambda value, with_time=True: i18n.when(value, zone, with_time),
        days_left=lambda deadline: days_left(home, deadline), form_key=new_form_key,
        public_menu=home.policy.web.public_pages,
        notice=NOTICES.get(request.query_params.get("done", "")), **context)
    return HTMLResponse(page, status_code=status)


# What an error page says, by HTTP status: a title and what to do next.
ERRORS = {
    400: (N_("Bad request"), N_("Check the form's fields and try again.")),
    401: (N_("Sign in"), N_("Sign in and try again.")),
    403: (N_("Not allowed"), N_("Your role or organization may not do this. Reload the page if "
                                "a form expired; ask an administrator if you need access.")),
    404: (N_("Not found"), N_("It does not exist, or your organization may not see it. Check "
                              "the address or go back to the list.")),
    409: (N_("Conflict"), N_("Someone changed it meanwhile, or it is in a state that forbids "
                             "this. Reload the page to see its state.")),
    413: (N_("Too large"), N_("Send a smaller file; the policy sets the limit.")),
    422: (N_("Invalid input"), N_("Correct the fields named in the message and send the form "
                                  "again.")),
    429: (N_("Too many attempts"), N_("Wait the time the message names, then try again.")),
    500: (N_("Something went wrong"), N_("The error was logged. Try again; if it keeps "
                                         "happening, tell the platform operator when it "
                                         "happened.")),
    503: (N_("Unavailable"), N_("The platform is busy or its database is unreachable. Try "
                                "again in a minute.")),
}


def error_page(request: Request, status: int, message: object,
               m: Member | None = None) -> HTMLResponse:
    title, hint = ERRORS.get(status, ERRORS[400])
    if request.headers.get("hx-request") == "true":
        return render(request, "form_error.html", m, message=message, status=status)
    return render(request, "error.html", m, title=title, message=message, hint=hint,
                  status=status)


def days_left(home: Home, deadline: Any) -> int | None:
    """Working days from today to ``deadline`` (negative when it passed)."""
    if not deadline:
        return None
    if isinstance(deadline, str):
        deadline = dt.date.fromisoformat(deadline[:10])
    elif isinstance(deadline, dt.datetime):
        deadline = deadline.date()
    return working_days_between(dt.date.today(), deadline, home.policy)


def back(path: str, done: str | None = None) -> RedirectResponse:
    """Redirect after a successful form (303: the browser follows with GET)."""
    return RedirectResponse(path + (f"?done={quote(done)}" if done else ""), status_code=303)


def local_path(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default`` (no open redirects)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


# Messages shown after a form succeeded, by key (the key, not free text, travels in the URL).
NOTICES = {
    "signed_out": N_("You have signed out."),
    "applied": N_("Your application was submitted. Reviewers decide within the deadline shown."),
    "decided": N_("Your decision was recorded."),
    "amended": N_("Your amended application was resubmitted; its review deadline counts from "
                  "today."),
    "application_withdrawn": N_("The application was withdrawn."),
    "checked": N_("Your check of the dataset's part was recorded."),
    "quality_reported": N_("The issue was reported; the providing department answers by the "
                           "date shown."),
    "quality_answered": N_("Your answer was recorded."),
    "qualification_submitted": N_("The application was submitted; an administrator reviews it."),
    "qualification_reviewed": N_("The review was recorded."),
    "consent_changed": N_("Saved: it applies from the next job on."),
    "consents_recorded": N_("The consents were filed; they apply from the next job on."),
    "consents_withdrawn": N_("The consents were withdrawn; the next job no longer sees those persons' rows."),
    "case_opened": N_("The case was opened; the platform responds by the date shown."),
    "case_handled": N_("The case was updated."),
    "product_registered": N_("The product was registered."),
    "price_proposed": N_("The price was proposed; the one in force stays until it is approved."),
    "price_decided": N_("The price decision was recorded."),
    "product_withdrawn": N_("The product was withdrawn."),
    "sale_booked": N_("The sale was booked."),
    "cost_booked": N_("The cost was booked."),
    "booking_voided": N_("The booking was voided."),
    "agreement_accepted": N_("The agreement was accepted; the workspace is open."),
    "attached": N_("The document was filed with the application."),
    "detached": N_("The document was taken back."),
    "registered": N_("The dataset was registered. Its simulated preview is being built."),
    "classified": N_("The classification was confirmed."),
    "requested": N_("Your egress request was submitted; the automatic checks ran."),
    "resubmitted": N_("Your request was resubmitted; a new review round started."),
    "withdrawn": N_("Your request was withdrawn."),
    "voted": N_("Your vote was recorded."),
    "cancelled": N_("The job was asked to stop."),
    "kept": N_("The draft was kept under its new name; later jobs read it by that name."),
    "user_changed": N_("The user was changed."),
    "user_added": N_("The user was added."),
    "notices_read": N_("Every notice is marked read."),
    "email_set": N_("Where your notices are e-mailed was saved."),
    "acknowledged": N_("The alert was marked as looked into."),
    "own_uploaded": N_("Your table was scanned and added to the workspace. Its simulated "
                       "preview is being built."),
    "own_deleted": N_("Your table was deleted from the workspace."),
}


def member_or_none(request: Request) -> Member | None:
    """The signed-in member if any (for the header of an error page); never raises."""
    try:
        signed = _signed(request)
    except Exception:  # an error page must render even when the store is down
        return None
    return Member(signed.actor, signed.csrf)
