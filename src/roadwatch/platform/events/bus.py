"""The event bus interface and the factory that picks an adapter by URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from roadwatch.platform.events.envelope import Event

Deliver = Callable[[Event], Awaitable[None]]
# handles a run of events in one go (one transaction); in the order they were published
DeliverMany = Callable[[Sequence[Event]], Awaitable[None]]


class BusUnavailable(Exception):
    """The broker could not take the events; they stay in the outbox and are retried."""


@dataclass(frozen=True)
class Subscription:
    # consumer group: replicas sharing a group share the work; the inbox is kept per group
    group: str
    # AMQP topic patterns over event types, e.g. "devices.device.*" or "#"
    patterns: tuple[str, ...]
    deliver: Deliver
    # for consumers of many small events (the audit store): when given, a bus hands over
    # whatever has arrived, up to MAX_BATCH events, in one call instead of one per event
    deliver_many: DeliverMany | None = None


MAX_BATCH = 500


class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, events: Sequence[Event]) -> None:
        """Return only once the broker has taken every event; raise BusUnavailable if not."""

    def subscribe(self, subscription: Subscription) -> None:
        """Register before start(); delivery is at least once, so consumers de-duplicate."""

    async def check(self) -> None: ...


def create_bus(url: str, exchange: str, queue_prefix: str) -> Bus:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        from roadwatch.platform.events.memory_bus import MemoryBus

        return MemoryBus()
    from roadwatch.platform.events.rabbitmq_bus import RabbitMQBus

    return RabbitMQBus(url, exchange, queue_prefix)
