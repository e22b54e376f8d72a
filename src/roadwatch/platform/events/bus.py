"""The event bus interface and the factory that picks an adapter by URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from roadwatch.platform.events.envelope import Event

# hands a consumer the events it has been sent, several at once when several are waiting,
# in the order they were published
Deliver = Callable[[Sequence[Event]], Awaitable[None]]


class BusUnavailable(Exception):
    """The broker could not take the events; they stay in the outbox and are retried."""


@dataclass(frozen=True)
class Subscription:
    # consumer group: replicas sharing a group share the work; the inbox is kept per group
    group: str
    # AMQP topic patterns over event types, e.g. "devices.device.*" or "#"
    patterns: tuple[str, ...]
    deliver: Deliver
    # every process gets every event on a queue of its own that goes away with it (live
    # fan-out to WebSocket clients); not durable: nothing waits for a process that is gone
    transient: bool = False


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
