"""Rate limits per client and per route class, counted in the shared cache.

The counters live in `platform.cache`, so with Redis every replica sees the same counts and a
client cannot multiply its allowance by spreading requests over replicas. Windows are fixed
and start at a client's first request (not at wall-clock boundaries), so Retry-After is exact.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Protocol

from fastapi import Request

from roadwatch.platform.cache import Cache
from roadwatch.platform.errors import TooManyRequests
from roadwatch.platform.runtime import get_platform

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Rule(Protocol):
    @property
    def requests(self) -> int: ...

    @property
    def window_s(self) -> int: ...


class RateLimiter:
    def __init__(self, cache: Cache, rules: Mapping[str, Rule]) -> None:
        self.cache = cache
        self.rules = rules

    async def hit(self, route_class: str, client: str) -> None:
        """Count one request; raise TooManyRequests once the client's allowance is spent."""
        rule = self.rules.get(route_class)
        if rule is None:
            raise KeyError(f"no rate limit rule for route class {route_class!r}")
        key = f"ratelimit:{route_class}:{client}"
        count = await self.cache.incr(key, rule.window_s)
        if count == 1:
            # remember when this window began, to tell a refused client how long to wait
            await self.cache.set(f"{key}:start", str(time.time()).encode(), rule.window_s)
            return
        if count <= rule.requests:
            return
        started = await self.cache.get(f"{key}:start")
        wait = rule.window_s
        if started is not None:
            wait = math.ceil(float(started) + rule.window_s - time.time())
        raise TooManyRequests(
            f"rate limit for {route_class} requests exceeded "
            f"({rule.requests} per {rule.window_s} s); retry later",
            retry_after_s=max(1, min(wait, rule.window_s)),
        )


def client_key(request: Request) -> str:
    # the peer address; behind a trusted proxy uvicorn's proxy_headers put the client's here
    return request.client.host if request.client else "unknown"


class RateLimit:
    """Route dependency counting the request against `route_class` for its client.

    With `writes_only`, safe methods (GET, HEAD, OPTIONS) pass uncounted, so one router-level
    dependency limits a service's writes while leaving its reads alone.
    """

    def __init__(self, route_class: str, writes_only: bool = False) -> None:
        self.route_class = route_class
        self.writes_only = writes_only

    async def __call__(self, request: Request) -> None:
        if self.writes_only and request.method in SAFE_METHODS:
            return
        platform = get_platform(request)
        settings = platform.settings.rate_limits
        if not settings.enabled:
            return
        limiter = RateLimiter(platform.cache, settings.rules())
        await limiter.hit(self.route_class, client_key(request))
