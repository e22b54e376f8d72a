"""What a service registers with the platform: its router, event handlers and tasks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import APIRouter

from roadwatch.platform.events.inbox import BatchHandler, Handler
from roadwatch.platform.live.hub import Channel

if TYPE_CHECKING:
    from roadwatch.platform.runtime import Platform

# A long-running background job; it is cancelled on shutdown.
Task = Callable[["Platform"], Awaitable[None]]
# Runs once at start-up, after the platform is built and before requests are served.
Startup = Callable[["Platform"], Awaitable[None]]


@dataclass(frozen=True)
class EventHandler:
    # unique per handler: names its durable queue and its inbox
    group: str
    patterns: tuple[str, ...]
    handle: Handler
    # optional: takes each run of events delivered together at once, in their transaction
    handle_many: BatchHandler | None = None


@dataclass(frozen=True)
class Module:
    name: str
    router: APIRouter | None = None
    # routes devices call with their own credentials (the token in the path): not counted
    # against a client address's allowance of writes, as a whole site of devices (or one
    # gateway) may send from one address
    device_router: APIRouter | None = None
    # URL prefixes this service answers; the gateway routes them to its upstream
    prefixes: Sequence[str] = ()
    # modules that must run in the same process (rare: most talk through events)
    depends_on: Sequence[str] = ()
    handlers: Sequence[EventHandler] = ()
    tasks: Sequence[Task] = ()
    # events clients may follow live on the WebSocket (`/api/v1/ws`), with the permission each
    # needs
    live_channels: Sequence[Channel] = ()
    startup: Sequence[Startup] = field(default_factory=tuple)
