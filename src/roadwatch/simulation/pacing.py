"""Keeping the simulator's requests within the platform's rate limit for its address.

The platform counts every write of a client address against one allowance (120 per 60 s by
default) and answers 429 with Retry-After beyond it. A token bucket spends at most
`per_minute` requests a minute, with up to a minute's worth in one burst; a 429 holds every
sender for as long as the platform asked.
"""

from __future__ import annotations

import asyncio
import time


class Pacer:
    def __init__(self, per_minute: float) -> None:
        # 0: no pacing (a platform with rate limits off, or MQTT)
        self.per_minute = per_minute
        self._tokens = per_minute
        self._stamp = time.monotonic()
        self._held_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._held_until:
                    await asyncio.sleep(self._held_until - now)
                    continue
                if self.per_minute <= 0:
                    return
                self._tokens = min(
                    self.per_minute, self._tokens + (now - self._stamp) * self.per_minute / 60
                )
                self._stamp = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) * 60 / self.per_minute)

    async def hold(self, seconds: float) -> None:
        """The platform said 429: nobody sends for `seconds`, and the bucket starts empty."""
        self._held_until = max(self._held_until, time.monotonic() + max(0.1, seconds))
        self._tokens = 0.0
        await asyncio.sleep(max(0.1, seconds))
