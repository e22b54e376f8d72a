"""Middleware that gives each request a correlation id (taken from X-Request-ID if sent)."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from roadwatch.platform.context import correlation_id_var

HEADER = b"x-request-id"
# a caller's id is reused only if it is short and plain, so it is safe in logs
_ACCEPTABLE = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


class CorrelationIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(HEADER, b"")
        value = incoming.decode() if _ACCEPTABLE.match(incoming) else uuid.uuid4().hex
        token = correlation_id_var.set(value)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (HEADER, value.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            correlation_id_var.reset(token)
