"""Group commit: points that many devices send at the same moment share one transaction.

A device is answered only once its points are durable, so each message waits for a
commit. Committing each connection's or request's points on its own makes the commit the
bottleneck when thousands of devices send small messages; here a process has at most one
such transaction in flight per source, and everything that arrives meanwhile goes into the
next one. Latency stays one commit; throughput grows with the number of senders.
"""

from __future__ import annotations

import asyncio
from collections import deque

from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.points import Point
from roadwatch.telemetry.store import store_batches

# points in one transaction at most; what is left waits for the next
MAX_POINTS = 50_000
_EXTRAS_KEY = "telemetry.group-commit"


class GroupCommit:
    def __init__(self, platform: Platform, source: str) -> None:
        self.platform = platform
        self.source = source
        self._queue: deque[tuple[str, list[Point], asyncio.Future[None]]] = deque()
        self._flushing: asyncio.Task[None] | None = None

    async def store(self, device_id: str, points: list[Point]) -> None:
        """Returns once the points are committed; raises what the commit raised."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # read by the flush even when the sender is gone, so it is never reported unread
        waiter.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append((device_id, points, waiter))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        # a sender that gives up (its connection closed) does not cancel the others' commit
        await asyncio.shield(waiter)

    async def _flush(self) -> None:
        while self._queue:
            batch: dict[str, list[Point]] = {}
            waiters: list[asyncio.Future[None]] = []
            taken = 0
            # whole messages, in arrival order, up to MAX_POINTS (at least one)
            while self._queue and (not waiters or taken + len(self._queue[0][1]) <= MAX_POINTS):
                device_id, points, waiter = self._queue.popleft()
                batch.setdefault(device_id, []).extend(points)
                waiters.append(waiter)
                taken += len(points)
            try:
                await store_batches(self.platform, batch, self.source)
            except Exception as exc:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
            else:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)


def group_commit(platform: Platform, source: str) -> GroupCommit:
    """This process's group commit for points from `source` ("http", "mqtt")."""
    groups: dict[str, GroupCommit] = platform.extras.setdefault(_EXTRAS_KEY, {})
    if source not in groups:
        groups[source] = GroupCommit(platform, source)
    return groups[source]
