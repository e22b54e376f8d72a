"""The running platform handed to routes, handlers and tasks as typed state.

Built once in the application's lifespan from the settings; nothing reads the environment
after that.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.config import Settings
from roadwatch.platform.cache import Cache
from roadwatch.platform.db import Database
from roadwatch.platform.events.bus import Bus
from roadwatch.platform.events.relay import OutboxRelay
from roadwatch.platform.health import HealthChecks
from roadwatch.platform.live.hub import LiveHub
from roadwatch.platform.storage import ObjectStore

if TYPE_CHECKING:
    from roadwatch.platform.auth.principal import Principal
    from roadwatch.platform.auth.tokens import TokenCodec

# Resolves an integration's API key to its principal; the identity service provides it.
ApiKeyResolver = Callable[["Platform", str], Awaitable["Principal | None"]]


@dataclass
class Platform:
    settings: Settings
    db: Database
    bus: Bus
    cache: Cache
    store: ObjectStore
    relay: OutboxRelay
    health: HealthChecks
    tokens: TokenCodec
    services: tuple[str, ...]
    api_key_resolver: ApiKeyResolver | None = None
    # None when no service of this process has live channels
    live: LiveHub | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


async def _session(platform: PlatformDep) -> AsyncIterator[AsyncSession]:
    # committed when the route returns, before the response is sent, so a failed commit
    # becomes an error response instead of a 200 for something that was not stored
    async with platform.db.session() as session:
        yield session


async def _read_session(platform: PlatformDep) -> AsyncIterator[AsyncSession]:
    async with platform.db.read_session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]
