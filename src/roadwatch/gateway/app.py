"""create_gateway_app(settings) -> FastAPI: the gateway's routes, middleware and client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from fastapi import FastAPI, Request
from starlette.responses import Response

from roadwatch import __version__
from roadwatch.config import GatewaySettings, Settings
from roadwatch.gateway.health import router as health_router
from roadwatch.gateway.health import upstream_checks
from roadwatch.gateway.proxy import forward
from roadwatch.gateway.routes import configured_upstreams, route_table, upstream_for
from roadwatch.modules import ALL
from roadwatch.platform.correlation import CorrelationIdMiddleware
from roadwatch.platform.errors import NotFound, Unavailable, install_error_handlers
from roadwatch.platform.health import HealthChecks
from roadwatch.platform.metrics import MetricsMiddleware, metrics_endpoint
from roadwatch.platform.module import Module

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# how long a client is told to wait when no upstream is configured for its service
UNCONFIGURED_RETRY_AFTER_S = 30
# upper bounds on connections the gateway keeps open to all upstreams together
MAX_CONNECTIONS = 1000
MAX_KEEPALIVE = 200


@dataclass(frozen=True)
class GatewayState:
    settings: GatewaySettings
    client: httpx.AsyncClient
    timeout: httpx.Timeout
    health: HealthChecks


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def _proxy_to(service: str) -> Callable[[Request], Awaitable[Response]]:
    async def proxy(request: Request) -> Response:
        state = _state(request)
        base_url = upstream_for(state.settings, service)
        if base_url is None:
            raise Unavailable(
                f"no upstream is configured for the {service} service",
                retry_after_s=UNCONFIGURED_RETRY_AFTER_S,
                service=service,
            )
        return await forward(state.client, request, base_url, state.timeout, service)

    proxy.__name__ = f"proxy_{service}"
    return proxy


async def _no_service(request: Request) -> Response:
    raise NotFound(f"no service serves {request.url.path}")


def _client(timeout: httpx.Timeout) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=timeout,
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE
        ),
        follow_redirects=False,
        # one client serves every caller: it must never keep one caller's cookies
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        # upstreams are reached directly, never through a proxy from the environment
        trust_env=False,
    )


def create_gateway_app(settings: Settings, modules: Sequence[Module] = ALL) -> FastAPI:
    """Raises ConfigError when an upstream setting is malformed or names no service."""
    gateway = settings.gateway
    upstreams = configured_upstreams(gateway, (m.name for m in modules))
    timeout = httpx.Timeout(
        connect=gateway.connect_timeout_s,
        read=gateway.read_timeout_s,
        write=gateway.read_timeout_s,
        pool=gateway.connect_timeout_s,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _client(timeout) as client:
            app.state.gateway = GatewayState(
                gateway, client, timeout, upstream_checks(client, upstreams)
            )
            yield

    # no OpenAPI of its own: every path it serves is a service's, documented there
    app = FastAPI(
        title="roadwatch gateway",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    app.include_router(health_router)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    # one route per prefix, so metrics are labelled by the service's prefix
    for route in route_table(modules):
        endpoint = _proxy_to(route.service)
        for path in (route.prefix, route.prefix + "/{path:path}"):
            app.add_api_route(path, endpoint, methods=METHODS, include_in_schema=False)
    app.add_api_route("/{path:path}", _no_service, methods=METHODS, include_in_schema=False)
    return app
