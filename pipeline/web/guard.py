"""ASGI middleware in front of every route: request bodies and response headers.

:class:`BodyGuard` refuses a body before it is read: larger than the cap by its
``Content-Length`` (413), a multipart upload from someone not signed in (401), and, for bodies
without a length, counts the bytes as they stream and answers 413 once past the cap; nothing is
spooled to disk first. :class:`SecurityHeaders` adds the headers every answer carries: a CSP
without inline scripts (pages load only their own scripts and styles), no framing,
``nosniff`` and a same-origin referrer policy.
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


async def _answer(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *(extra or [])]})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in HEADERS if k not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyGuard:
    """``limit``: the largest body read; ``signed_in(scope)``: whether the request carries a
    valid session or bearer token (checked only for multipart uploads)."""

    def __init__(self, app: ASGIApp, limit: Callable[[], int],
                 signed_in: Callable[[Scope], bool]) -> None:
        self.app, self.limit, self.signed_in = app, limit, signed_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = self.limit()
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _answer(send, 413, f"request body larger than {limit} bytes")
            return
        if headers.get("content-type", "").lower().startswith("multipart/") and not self.signed_in(scope):
            await _answer(send, 401, "sign in before uploading", [(b"www-authenticate", b"Bearer")])
            return
        seen = 0
        over = False
        started = False

        async def counted() -> Message:
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if over and not started:  # whatever the app answers to a cut body: it was too large
                started = True
                await _answer(send, 413, f"request body larger than {limit} bytes")
                return
            if over:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded_send)
        except Exception:
            if not over:
                raise
            if not started:
                await _answer(send, 413, f"request body larger than {limit} bytes")
