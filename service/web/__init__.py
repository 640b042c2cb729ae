"""The web console: server-rendered pages for every role, served by the API's FastAPI app."""

from __future__ import annotations

from importlib import resources
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from service.web import account, admin_pages, catalog_pages, egress_pages, provider_pages, work_pages
from service.web.base import SignInRequired, error_page, member_or_none

NOT_CONSOLE = ("/api/", "/docs", "/redoc", "/openapi.json", "/healthz")
# Pages are the platform's own: no inline script, no other origin, never framed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def is_console(request: Request) -> bool:
    return not request.url.path.startswith(NOT_CONSOLE)


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.url.scheme == "https" or \
                request.headers.get("x-forwarded-proto", "").lower() == "https":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.url.path.startswith("/api/"):
            # API answers carry the platform's data: never cached, never rendered as a page.
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("Content-Security-Policy",
                                        "default-src 'none'; frame-ancestors 'none'")
        elif is_console(request):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
            if not request.url.path.startswith("/static/"):
                # Pages show data of the platform: never kept in shared or browser caches.
                response.headers.setdefault("Cache-Control", "no-store")
        return response


def console_error(request: Request, status: int, message: str) -> Response:
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
                   admin_pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("service.web") / "static")),
              name="static")
    app.add_middleware(SecurityHeaders)


__all__ = ["SignInRequired", "console_error", "is_console", "mount"]
