"""`roadwatch serve --demo`: the platform with the demo city streaming into it.

The simulator is a client of the platform like any other: it gets an API key allowed only to
register devices (made here through the identity service, as `users create-admin` makes an
account, and kept in var/demo/ for the next start) and feeds the server's own HTTP port.
Everything it remembers between starts (key, device tokens, simulated clock, ground truth)
lives in var/demo/, so a restart reuses the same devices and carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from roadwatch.config import Settings
from roadwatch.identity import module as identity
from roadwatch.identity.schemas import ApiKeyCreate
from roadwatch.identity.service.api_keys import ApiKeyService, resolve_api_key
from roadwatch.platform.auth import Principal
from roadwatch.platform.bootstrap import build_platform, close_platform
from roadwatch.simulation.engine import SimulationSettings
from roadwatch.simulation.feeder import FeedOptions, feed, read_clock
from roadwatch.simulation.provision import Credentials

log = logging.getLogger("roadwatch.demo")

# registering its devices, and handing its road network to the traffic service
DEMO_SCOPES = ["devices:read", "devices:write", "traffic:write"]
# a fresh demo starts this far back, replayed fast, so there is history to look at at once
BACKFILL_S = 15 * 60
BACKFILL_SPEED = 30.0
# half the platform's default write allowance for one address: the rest is the visitor's
DEMO_REQUESTS_PER_MINUTE = 60.0
RETRY_S = 10.0


@dataclass(frozen=True)
class DemoFiles:
    root: Path

    @classmethod
    def of(cls, settings: Settings) -> DemoFiles:
        return cls(Path(settings.var_dir) / "demo")

    @property
    def api_key(self) -> Path:
        return self.root / "api-key"

    @property
    def devices(self) -> Path:
        return self.root / "devices.json"

    @property
    def clock(self) -> Path:
        return self.root / "clock"

    @property
    def truth(self) -> Path:
        return self.root / "truth.jsonl"


async def ensure_demo_key(settings: Settings) -> str:
    """The demo's API key: the one kept in var/demo/ while the platform accepts it with the
    scopes the demo needs, else a new one (a fresh database, a revoked key, an older demo's
    key, which is revoked)."""
    files = DemoFiles.of(settings)
    platform = await build_platform(settings, [identity])
    try:
        outdated: Principal | None = None
        if files.api_key.is_file():
            kept = files.api_key.read_text().strip()
            principal = await resolve_api_key(platform, kept)
            if principal is not None and set(DEMO_SCOPES) <= principal.scopes:
                return kept
            # a key from an older demo may lack a scope the demo needs now: replace it
            outdated = principal
        # the platform itself grants it: a principal holding exactly the key's scopes
        creator = Principal(kind="system", id="demo", scopes=frozenset(DEMO_SCOPES))
        async with platform.db.session() as session:
            service = ApiKeyService(platform, session, "system")
            if outdated is not None:
                await service.revoke(outdated.id)
            _, secret = await service.create(
                ApiKeyCreate(name="demo city simulator", scopes=DEMO_SCOPES), creator
            )
    finally:
        await close_platform(platform)
    files.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(files.api_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret)
    return secret


def _unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def demo_options(settings: Settings, api_key: str, now: float) -> FeedOptions:
    files = DemoFiles.of(settings)
    # a server listening on every interface is reached on loopback
    host = "127.0.0.1" if _unspecified(settings.host) else settings.host
    stopped_at = read_clock(files.clock)
    start = now - BACKFILL_S
    if stopped_at is not None and stopped_at > start:
        # carry on where the last run stopped, rather than rewrite what it sent
        start = stopped_at
    return FeedOptions(
        url=f"http://{host}:{settings.port}",
        credentials=Credentials(api_key=api_key),
        # the demo city lives in the machine's time zone: its rush hour is the visitor's
        settings=SimulationSettings(timezone=datetime.now().astimezone().tzinfo or UTC),
        start=min(start, now),
        speed=BACKFILL_SPEED,
        prefix="demo",
        requests_per_minute=DEMO_REQUESTS_PER_MINUTE,
        truth_path=files.truth,
        state_path=files.devices,
        clock_path=files.clock,
    )


async def _stream_when_started(server: uvicorn.Server, settings: Settings, api_key: str) -> None:
    # uvicorn tells that it listens only by a flag
    while not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    while True:
        try:
            options = demo_options(settings, api_key, time.time())
            log.info("demo city streaming into %s as devices named demo-*", options.url)
            await feed(options)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            # the demo is a guest of the server: it never takes it down, it tries again
            log.exception("demo city stopped; starting it again in %.0f s", RETRY_S)
            await asyncio.sleep(RETRY_S)


async def serve_with_demo(app: FastAPI, settings: Settings, api_key: str) -> None:
    """Serve `app` and, once it listens, stream the demo city into it until it stops."""
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=settings.host, port=settings.port, log_config=None, proxy_headers=True
        )
    )
    demo = asyncio.create_task(_stream_when_started(server, settings, api_key), name="demo")

    async def stop_demo_first() -> None:
        # stop sending as soon as the server is asked to stop, not once it has gone
        while not server.should_exit and not demo.done():  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        demo.cancel()

    watcher = asyncio.create_task(stop_demo_first())
    try:
        await server.serve()
    finally:
        for task in (demo, watcher):
            task.cancel()
        await asyncio.gather(demo, watcher, return_exceptions=True)
