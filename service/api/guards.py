"""What every request passes before a handler: a body-size limit and response headers."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.home import Home

# Where a file is uploaded: the body may be as large as the policy's upload limit (plus the
# multipart envelope); everywhere else the smaller request limit holds.
UPLOADS = (("POST", "/api/v1/datasets"), ("POST", "/provider/register"))
# A merchant's own table, into a grant's workspace: the policy's own-data limit.
OWN_UPLOADS = re.compile(r"/(api/v1/grants|workspace)/\d+/own-data")
ENVELOPE = 1 << 20


class BodyLimit:
    """Refuses bodies over the limit with 413, by Content-Length before reading anything, and
    while reading a body sent without one; a handler never sees a partial body."""

    def __init__(self, app: ASGIApp, home: Home) -> None:
        self.app, self.home = app, home

    def limit(self, scope: Scope) -> int:
        policy = self.home.policy
        if (scope["method"], scope["path"].rstrip("/")) in UPLOADS:
            return policy.max_upload_bytes + ENVELOPE
        if scope["method"] == "POST" and OWN_UPLOADS.fullmatch(scope["path"].rstrip("/")):
            return policy.own_data.max_bytes + ENVELOPE
        return policy.api.max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _refuse(send, 400, "Bad request", "Content-Length is not a number")
                return
            if size > limit:
                await _refuse(send, 413, "Too large",
                              f"the request body has {size} bytes; at most {limit} are accepted")
                return
        received, started, refused = 0, False, False

        async def counted() -> Message:
            # Over the limit: answer 413 at once and tell the app the client went away, so no
            # handler acts on a partial body; whatever the app still sends is dropped.
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await _refuse(send, 413, "Too large",
                                      f"the request body exceeds {limit} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except Exception:
            if not refused:
                raise


async def _refuse(send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status,
                       "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
