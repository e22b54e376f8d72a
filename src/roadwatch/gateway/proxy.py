"""Forwarding one request to its upstream, streaming both bodies, mapping failures to errors.

Neither body is ever held whole: the request body goes up chunk by chunk as the client
sends it, and the response body comes down chunk by chunk as the upstream sends it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from roadwatch.gateway.headers import client_response_headers, upstream_request_headers
from roadwatch.platform.context import current_correlation_id
from roadwatch.platform.errors import DomainError

log = logging.getLogger(__name__)


class BadGateway(DomainError):
    status = 502
    title = "Bad gateway"
    kind = "bad-gateway"


class GatewayTimeout(DomainError):
    status = 504
    title = "Gateway timeout"
    kind = "gateway-timeout"


class UpstreamResponse(Response):
    """Relays an upstream's streamed response and closes it, however the relay ends."""

    def __init__(self, upstream: httpx.Response) -> None:
        self.upstream = upstream
        self.status_code = upstream.status_code
        self.raw_headers = client_response_headers(upstream)
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            async for chunk in self.upstream.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except httpx.TransportError as exc:
            # the status line is already sent: all that is left is to cut the connection,
            # which the server does when the app returns with the response incomplete
            log.warning("upstream failed mid-response: %s: %s", type(exc).__name__, exc)
        finally:
            await self.upstream.aclose()
        if self.background is not None:
            await self.background()


def _has_body(request: Request) -> bool:
    return "content-length" in request.headers or "transfer-encoding" in request.headers


async def _body(request: Request) -> AsyncIterator[bytes]:
    async for chunk in request.stream():
        if chunk:
            yield chunk


async def forward(
    client: httpx.AsyncClient,
    request: Request,
    base_url: str,
    timeouts: httpx.Timeout,
    service: str,
) -> UpstreamResponse:
    scope = request.scope
    target = base_url.rstrip("/") + scope.get("raw_path", scope["path"].encode()).decode("latin-1")
    if scope["query_string"]:
        target += "?" + scope["query_string"].decode("latin-1")
    peer = request.client.host if request.client else None
    upstream_request = httpx.Request(
        request.method,
        target,
        headers=upstream_request_headers(
            scope["headers"], peer, scope["scheme"], current_correlation_id()
        ),
        content=_body(request) if _has_body(request) else None,
        # built outside the client, so the timeouts go on the request itself
        extensions={"timeout": timeouts.as_dict()},
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.TimeoutException as exc:
        raise GatewayTimeout(
            f"the {service} service did not answer in time ({type(exc).__name__})",
            service=service,
        ) from None
    except httpx.TransportError as exc:
        raise BadGateway(
            f"the {service} service cannot be reached ({type(exc).__name__})", service=service
        ) from None
    return UpstreamResponse(upstream)
