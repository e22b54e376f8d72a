"""The in-process bus of the embedded shape.

Delivery is synchronous: publish() returns after every matching consumer has handled the
events (each consumer gets all of its events of a publish at once), so the relay marks an
outbox row published only once its consumers are done. A crash
in between re-delivers from the outbox, and the consumers' inbox drops the repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from roadwatch.platform.events.bus import BusUnavailable, Subscription
from roadwatch.platform.events.envelope import Event, topic_matches

log = logging.getLogger(__name__)


class MemoryBus:
    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)

    async def publish(self, events: Sequence[Event]) -> None:
        async with self._lock:
            for sub in self._subscriptions:
                matching = [
                    e for e in events if any(topic_matches(p, e.type) for p in sub.patterns)
                ]
                if not matching:
                    continue
                try:
                    await sub.deliver(matching)
                except Exception as exc:
                    # Leave the events in the outbox; the relay retries with back-off, and
                    # the consumers that took them already drop the repeat (their inbox).
                    log.exception("consumer failed", extra={"group": sub.group})
                    raise BusUnavailable(f"consumer {sub.group} failed: {exc}") from exc

    async def check(self) -> None:
        return None
