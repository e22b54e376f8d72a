"""The in-process bus of the embedded shape.

Delivery is synchronous: publish() returns after every matching consumer has handled the
event, so the relay marks an outbox row published only once its consumers are done. A crash
in between re-delivers from the outbox, and the consumers' inbox drops the repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from roadwatch.platform.events.bus import MAX_BATCH, BusUnavailable, Subscription
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
            for event in events:
                for sub in self._subscriptions:
                    if sub.deliver_many is None and _matches(sub, event):
                        try:
                            await sub.deliver(event)
                        except Exception as exc:
                            # Leave the event in the outbox; the relay retries with back-off.
                            log.exception(
                                "consumer failed", extra={"group": sub.group, "event": event.id}
                            )
                            raise BusUnavailable(f"consumer {sub.group} failed: {exc}") from exc
            for sub in self._subscriptions:
                if sub.deliver_many is None:
                    continue
                matching = [event for event in events if _matches(sub, event)]
                for start in range(0, len(matching), MAX_BATCH):
                    try:
                        await sub.deliver_many(matching[start : start + MAX_BATCH])
                    except Exception as exc:
                        log.exception("consumer failed", extra={"group": sub.group})
                        raise BusUnavailable(f"consumer {sub.group} failed: {exc}") from exc

    async def check(self) -> None:
        return None


def _matches(sub: Subscription, event: Event) -> bool:
    return any(topic_matches(p, event.type) for p in sub.patterns)
