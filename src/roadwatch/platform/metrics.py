"""Prometheus metrics: the HTTP middleware, the platform's own counters, and `/metrics`.

Metrics live in one process-wide registry; services declare their business counters with
the same prometheus_client API at module level.
"""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("roadwatch_http_requests_total", "HTTP requests", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "roadwatch_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter("roadwatch_http_errors_total", "HTTP responses with status >= 500", ["route"])
EVENTS_PUBLISHED = Counter("roadwatch_events_published_total", "Events relayed", ["type"])
EVENTS_CONSUMED = Counter("roadwatch_events_consumed_total", "Events handled", ["group", "type"])
EVENTS_DUPLICATE = Counter(
    "roadwatch_events_duplicate_total", "Events dropped by the inbox as repeats", ["group"]
)
OUTBOX_PENDING = Gauge("roadwatch_outbox_pending", "Events committed but not yet published")
DEPENDENCY_UP = Gauge("roadwatch_dependency_up", "1 if the dependency answered", ["dependency"])


def _route_template(scope: Scope) -> str:
    # label by the route's template, never the raw path, to keep label cardinality bounded;
    # the router leaves the matched route in the (shared) scope
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            REQUEST_SECONDS.labels(method, route).observe(time.perf_counter() - start)
            if status >= 500:
                ERRORS.labels(route).inc()


async def metrics_endpoint(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
