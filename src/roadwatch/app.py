"""create_app(settings, services) -> FastAPI: one process serving the chosen services."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from roadwatch import __version__
from roadwatch.config import Settings
from roadwatch.modules import ALL, select
from roadwatch.platform.auth import public
from roadwatch.platform.bootstrap import build_platform, close_platform
from roadwatch.platform.correlation import CorrelationIdMiddleware
from roadwatch.platform.errors import install_error_handlers
from roadwatch.platform.health import router as health_router
from roadwatch.platform.live.endpoint import router as live_router
from roadwatch.platform.metrics import MetricsMiddleware, metrics_endpoint
from roadwatch.platform.module import Module
from roadwatch.platform.ratelimit import RateLimit
from roadwatch.platform.runtime import Platform

log = logging.getLogger(__name__)


def _start_background(platform: Platform, modules: list[Module]) -> list[asyncio.Task[None]]:
    async def keep_running(name: str, make: object) -> None:
        # a background job that crashes is logged and restarted, never silently gone
        while True:
            try:
                await make()  # type: ignore[operator]
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task %s crashed; restarting in 1 s", name)
                await asyncio.sleep(1.0)

    jobs = [asyncio.create_task(keep_running("outbox-relay", platform.relay.run))]
    for module in modules:
        for task in module.tasks:
            name = f"{module.name}.{task.__name__}"
            jobs.append(
                asyncio.create_task(keep_running(name, lambda t=task: t(platform)), name=name)
            )
    return jobs


def create_app(settings: Settings, services: list[str] | None = None) -> FastAPI:
    modules = select(services)
    live_channels = [channel for module in ALL for channel in module.live_channels]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = await build_platform(settings, modules, live_channels)
        app.state.platform = platform
        try:
            for module in modules:
                for hook in module.startup:
                    await hook(platform)
        except BaseException:
            # a hook that stops start-up must not leave connections and engines behind
            await close_platform(platform)
            raise
        jobs = _start_background(platform, modules)
        log.info("roadwatch started", extra={"services": [m.name for m in modules]})
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            await close_platform(platform)

    app = FastAPI(
        title="roadwatch",
        version=__version__,
        description="City traffic monitoring on a general IoT backbone.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    app.include_router(health_router, dependencies=[public()])
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    # writes of every service count against the client's allowance; reads do not
    limit_writes = Depends(RateLimit("writes", writes_only=True))
    if live_channels:
        app.include_router(live_router)
    for module in modules:
        if module.router is not None:
            app.include_router(module.router, dependencies=[limit_writes])
        if module.device_router is not None:
            app.include_router(module.device_router)
    return app
