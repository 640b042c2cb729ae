"""The FastAPI application: /api/v1 (OpenAPI at /docs, errors as problem+json) and the web
console under /."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from policies import DomainError
from service import web
from service.api.guards import BodyLimit
from service.api.routes import router
from service.home import Home
from service.limits import Limits, RateLimited
from service.web.i18n import Said

log = logging.getLogger(__name__)

STATUS = {"invalid": 422, "not_found": 404, "forbidden": 403, "conflict": 409,
          "unauthenticated": 401, "unavailable": 503, "rate_limited": 429,
          "storage_full": 507}
TITLES = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Too large",
          422: "Invalid input", 429: "Too many requests", 500: "Internal error",
          503: "Unavailable", 507: "Insufficient storage"}


def problem(status: int, detail: str, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra.pop("retry_after"))
        body.pop("retry_after", None)
    return JSONResponse(body, status_code=status, media_type="application/problem+json",
                        headers=headers or None)


def create_app(home: Home, workers: int | None = None) -> FastAPI:
    """The app over ``home``. Its lifespan runs a local worker pool of ``workers`` job processes
    (default: the policy's pool_size; 0: none, jobs wait for `tds worker`); jobs run in their own
    processes, never in the server's."""
    home.require_initialized()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        size = home.policy.sandbox.pool_size if workers is None else workers
        app.state.pool = home.pool(size=size).start() if size > 0 else None
        try:
            yield
        finally:
            if app.state.pool is not None:
                await asyncio.to_thread(app.state.pool.stop)

    app = FastAPI(title="Trusted Data Sandbox", version="0.1.0", lifespan=lifespan,
                  description="Authorized operation of public data: catalog, applications, "
                              "sandbox jobs, egress review, signed releases, lineage ledger.")
    app.state.home = home
    app.state.limits = Limits.of(home.policy)
    app.include_router(router, prefix="/api/v1")
    app.add_middleware(BodyLimit, home=home)

    web.mount(app)

    # Errors become problem+json under /api/v1, and pages that say what to do in the console.
    def answer(request: Request, status: int, detail: str, error: DomainError | None = None,
               **extra: object) -> Response:
        if web.is_console(request):
            return web.console_error(request, status, Said(error) if error else detail)
        return problem(status, detail, **extra)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        extra: dict[str, object] = (
            {"retry_after": exc.retry_after} if isinstance(exc, RateLimited)
            else {"retry_after": 5} if exc.kind == "unavailable" else {})
        # The sentence's template and fields, for a client that words it in its own language.
        extra.update(code=exc.template, params={
            k: v if isinstance(v, str | int | float | bool | None) else str(v)
            for k, v in exc.params.items()})
        return await asyncio.to_thread(answer, request, STATUS.get(exc.kind, 400), exc.message,
                                       exc, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": [str(p) for p in e.get("loc", [])], "msg": e.get("msg", "")}
                  for e in exc.errors()]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        return await asyncio.to_thread(answer, request, 422,
                                       f"{'.'.join(first['loc'])}: {first['msg']}",
                                       errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return await asyncio.to_thread(answer, request, exc.status_code, str(exc.detail))

    # Its own handler, not the catch-all below: Starlette re-raises what reaches the catch-all,
    # and the server then drops the client's connection.
    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            # The database restarted or is unreachable: say so, the client may retry.
            log.warning("database unavailable: %s", exc.orig)
            return await asyncio.to_thread(answer, request, 503, "the database is unavailable "
                                           "for a moment; try again shortly", retry_after=5)
        log.exception("database error", exc_info=exc)
        return await asyncio.to_thread(answer, request, 500,
                                       "an unexpected error occurred; it has been logged")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return await asyncio.to_thread(answer, request, 500,
                                       "an unexpected error occurred; it has been logged")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
