"""The web console: server-rendered pages for every role, served by the API's FastAPI app."""

from __future__ import annotations

import asyncio
from importlib import resources
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import form_keys
from service.web import (
    account,
    admin_pages,
    case_pages,
    catalog_pages,
    commerce_pages,
    consent_pages,
    dp_pages,
    egress_pages,
    notice_pages,
    own_pages,
    provider_pages,
    public_pages,
    qualification_pages,
    quality_pages,
    work_pages,
)
from service.web.base import AlreadySent, SignInRequired, error_page, member_or_none

NOT_CONSOLE = ("/api/", "/docs", "/redoc", "/openapi.json", "/healthz")
# Pages are the platform's own: no inline script, no other origin, never framed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def is_console(request: Request) -> bool:
    return _console_path(request.url.path)


def _console_path(path: str) -> bool:
    return not path.startswith(NOT_CONSOLE)


class SecurityHeaders:
    """Security headers on every answer. Plain ASGI rather than Starlette's BaseHTTPMiddleware,
    which runs each request in a task group of its own, with streams between the two."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        secure = scope.get("scheme") == "https" or any(
            name == b"x-forwarded-proto" and value.decode("latin-1").lower() == "https"
            for name, value in scope["headers"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if secure:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if path.startswith("/api/"):
                    # API answers carry the platform's data: never cached, never rendered as a
                    # page.
                    headers.setdefault("Cache-Control", "no-store")
                    headers.setdefault("Content-Security-Policy",
                                       "default-src 'none'; frame-ancestors 'none'")
                elif _console_path(path):
                    headers.setdefault("Content-Security-Policy", CSP)
                    headers.setdefault("X-Frame-Options", "DENY")
                    if not path.startswith("/static/"):
                        # Pages show data of the platform: never kept in shared or browser
                        # caches.
                        headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


class FormKeys:
    """Records where a keyed form's first submission led (a redirect), or frees its key when
    it changed nothing, before the answer leaves: a repeat then lands on the same page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        settled = False

        async def settle(location: str | None) -> None:
            nonlocal settled
            key = state.get("form_key")
            if key and not settled:
                settled = True
                await asyncio.to_thread(form_keys.settle, scope["app"].state.home.store, key,
                                        location)

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                redirect = message["status"] in (302, 303) and not headers.get("hx-redirect")
                await settle(headers.get("location") if redirect else None)
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            await settle(None)


def already_sent(request: Request, exc: AlreadySent) -> Response:
    return RedirectResponse(exc.location, status_code=303)


def console_error(request: Request, status: int, message: object) -> Response:
    """The console's answer to an error: sign-in for a missing session, else an error page."""
    if status == 401:
        target = "/sign-in?next=" + quote(request.url.path) + (
            "&ended=1" if request.cookies.get("tds_session") else "")
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    return error_page(request, status, message, member_or_none(request))


def mount(app: FastAPI) -> None:
    for module in (account, catalog_pages, work_pages, egress_pages, provider_pages,
                   admin_pages, notice_pages, public_pages, quality_pages, case_pages,
                   commerce_pages, consent_pages, qualification_pages, dp_pages,
                   own_pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("service.web") / "static")),
              name="static")
    app.add_exception_handler(AlreadySent, already_sent)
    app.add_middleware(FormKeys)
    app.add_middleware(SecurityHeaders)


__all__ = ["SignInRequired", "console_error", "is_console", "mount"]
