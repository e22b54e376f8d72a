"""Waiting for "something new for a device" (a shared attribute, an RPC call, a reply).

The database is the truth, so it works across replicas: a waiter re-checks it every
POLL_INTERVAL_S. A change made in this process also wakes the waiters of this process at
once (an asyncio signal after commit), so in the all-in-one shape nothing waits for the
interval; a change made by another replica is seen within POLL_INTERVAL_S.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from roadwatch.platform.runtime import Platform

POLL_INTERVAL_S = 0.2
_EXTRAS_KEY = "telemetry.wakeup"
T = TypeVar("T")


class Wakeup:
    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()

    def notify(self) -> None:
        """Wake every waiter of this process; each re-checks what it waits for."""
        for event in self._waiters:
            event.set()

    async def poll(
        self,
        check: Callable[[], Awaitable[T | None]],
        timeout_s: float,
        interval_s: float = POLL_INTERVAL_S,
    ) -> T | None:
        """The first non-None result of `check`, trying again on each wake-up or interval,
        or None once `timeout_s` has passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        event = asyncio.Event()
        # registered before the first check, so a change committed meanwhile is not missed
        self._waiters.add(event)
        try:
            while True:
                event.clear()
                found = await check()
                if found is not None:
                    return found
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return None
                try:
                    async with asyncio.timeout(min(interval_s, remaining)):
                        await event.wait()
                except TimeoutError:
                    pass
        finally:
            self._waiters.discard(event)


def wakeup_for(platform: Platform) -> Wakeup:
    wakeup = platform.extras.get(_EXTRAS_KEY)
    if not isinstance(wakeup, Wakeup):
        wakeup = platform.extras[_EXTRAS_KEY] = Wakeup()
    return wakeup
