"""Building the platform from settings, and checking each dependency before serving.

A dependency that cannot be reached at start-up is reported as one line naming the setting
that points at it (ConfigError), not as a traceback.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from roadwatch.config import ConfigError, Settings
from roadwatch.platform.auth.api_keys import principal_from_cached_key
from roadwatch.platform.auth.tokens import TokenCodec
from roadwatch.platform.cache import create_cache
from roadwatch.platform.db import Database
from roadwatch.platform.events.bus import Subscription, create_bus
from roadwatch.platform.events.inbox import idempotent
from roadwatch.platform.events.relay import OutboxRelay
from roadwatch.platform.health import HealthChecks
from roadwatch.platform.live.hub import Channel, LiveHub
from roadwatch.platform.migrations import current_revision, head_revision, upgrade
from roadwatch.platform.module import Module
from roadwatch.platform.runtime import Platform
from roadwatch.platform.storage import create_object_store

STARTUP_TIMEOUT_S = 10.0


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _redact(url: str) -> str:
    # never print a password from a URL
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


async def _require(setting: str, url: str, check: Callable[[], Awaitable[object]]) -> None:
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_S):
            await check()
    except Exception as exc:
        raise ConfigError(f"{setting}: cannot reach {_redact(url)} ({_describe(exc)})") from None


def _jwt_secret(s: Settings) -> str:
    configured = s.auth.jwt_secret
    if configured:
        return configured
    if not s.embedded:
        raise ConfigError(
            "ROADWATCH_AUTH__JWT_SECRET: required when not in the embedded shape "
            "(every replica must sign and verify with the same key)"
        )
    # embedded shape: generate once and keep it beside the database
    path = Path(s.var_dir) / "jwt.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


async def _require_schema(db: Database) -> None:
    # serving on an older schema would fail request by request; say so once, at start-up
    found, wanted = await current_revision(db.engine), head_revision()
    if found != wanted:
        raise ConfigError(
            f"ROADWATCH_DATABASE_URL: schema is at revision {found or 'none'}, this release "
            f"needs {wanted}; run `roadwatch migrate` first"
        )


async def build_platform(
    s: Settings, modules: list[Module], live_channels: Sequence[Channel] = ()
) -> Platform:
    """Create adapters, migrate when embedded, verify every dependency, wire consumers.

    `live_channels` are every service's, not only this process's: a WebSocket client can
    follow any service's events from whichever process it is connected to.
    """
    db_url = s.resolved_database_url
    db = Database(
        db_url,
        s.database_replica_url,
        pool_size=s.database_pool_size,
        echo=s.database_echo,
    )
    health = HealthChecks()
    health.add("database", db.check)
    await _require("ROADWATCH_DATABASE_URL", db_url, db.check)
    if db.replica_engine is not None:
        health.add("database_replica", db.check_replica)
        await _require(
            "ROADWATCH_DATABASE_REPLICA_URL",
            s.database_replica_url,
            db.check_replica,
        )
    tokens = TokenCodec(s.auth.jwt_key_id, _jwt_secret(s), s.auth.jwt_previous_keys)
    if s.migrates_on_start:
        await asyncio.to_thread(upgrade, db_url)
    else:
        await _require_schema(db)

    cache = create_cache(s.cache_url, namespace=f"{s.bus_queue_prefix}:")
    health.add("cache", cache.check)
    await _require("ROADWATCH_CACHE_URL", s.cache_url, cache.check)

    store_url = s.resolved_object_store_url
    store = create_object_store(store_url)
    health.add("object_store", store.check)
    await _require("ROADWATCH_OBJECT_STORE_URL", store_url, store.check)

    bus = create_bus(s.bus_url, s.bus_exchange, s.bus_queue_prefix)
    for module in modules:
        for handler in module.handlers:
            deliver = idempotent(db, handler.group, handler.handle, handler.handle_many)
            bus.subscribe(Subscription(handler.group, handler.patterns, deliver))
    live = LiveHub(live_channels) if live_channels else None
    if live is not None:
        bus.subscribe(Subscription("live", live.patterns, live.deliver, transient=True))
    await _require("ROADWATCH_BUS_URL", s.bus_url, bus.start)
    health.add("bus", bus.check)

    relay = OutboxRelay(
        db,
        bus,
        poll_interval_s=s.outbox_poll_interval_s,
        batch_size=s.outbox_batch_size,
    )
    return Platform(
        settings=s,
        db=db,
        bus=bus,
        cache=cache,
        store=store,
        relay=relay,
        health=health,
        tokens=tokens,
        services=tuple(m.name for m in modules),
        # the identity service replaces it with its own when it runs in this process
        api_key_resolver=principal_from_cached_key,
        live=live,
    )


async def close_platform(platform: Platform) -> None:
    for close in (platform.bus.close, platform.cache.close, platform.store.close):
        try:
            await close()
        except Exception:  # noqa: S110  (closing on shutdown: nothing left to tell)
            pass
    await platform.db.dispose()


async def check_database(url: str) -> None:
    db = Database(url)
    try:
        await _require("ROADWATCH_DATABASE_URL", url, db.check)
    finally:
        await db.dispose()
