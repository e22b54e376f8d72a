"""create_gateway_app(settings) -> FastAPI: the gateway's routes, middleware, client and
token check."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from starlette.responses import Response

from roadwatch import __version__
from roadwatch.config import GatewaySettings, Settings
from roadwatch.gateway.auth import check_bearer, revocation_cache, token_codec
from roadwatch.gateway.health import router as health_router
from roadwatch.gateway.health import upstream_checks
from roadwatch.gateway.proxy import forward
from roadwatch.gateway.routes import configured_upstreams, route_table, upstream_for
from roadwatch.modules import ALL
from roadwatch.platform.auth.tokens import TokenCodec
from roadwatch.platform.cache import Cache
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

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GatewayState:
    settings: GatewaySettings
    client: httpx.AsyncClient
    timeout: httpx.Timeout
    health: HealthChecks
    tokens: TokenCodec
    # the revocation list the services write, read on every request with a bearer token
    cache: Cache


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def _proxy_to(service: str) -> Callable[[Request], Awaitable[Response]]:
    async def proxy(request: Request) -> Response:
        state = _state(request)
        await check_bearer(request, state.tokens, state.cache)
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
    """Raises ConfigError when an upstream setting is malformed or names no service, or
    the JWT secret is missing."""
    gateway = settings.gateway
    tokens = token_codec(settings)
    upstreams = configured_upstreams(gateway, (m.name for m in modules))
    timeout = httpx.Timeout(
        connect=gateway.connect_timeout_s,
        read=gateway.read_timeout_s,
        write=gateway.read_timeout_s,
        pool=gateway.connect_timeout_s,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if urlsplit(settings.cache_url).scheme == "memory":
            log.warning(
                "ROADWATCH_CACHE_URL is memory://: the gateway cannot see sessions the "
                "services revoke; only the services will refuse those tokens"
            )
        cache = revocation_cache(settings)
        try:
            async with _client(timeout) as client:
                health = upstream_checks(client, upstreams)
                health.add("cache", cache.check)
                app.state.gateway = GatewayState(gateway, client, timeout, health, tokens, cache)
                yield
        finally:
            await cache.close()

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
