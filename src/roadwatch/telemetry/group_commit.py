"""Group commit: points that many devices send at the same moment share one transaction.

A device is answered only once its points are durable, so each message waits for a
commit. Committing each connection's or request's points on its own makes the commit the
bottleneck when thousands of devices send small messages; here a process has at most one
such transaction in flight per source, and everything that arrives meanwhile goes into the
next one (platform/coalesce.py). Latency stays one commit; throughput grows with the number
of senders.
"""

from __future__ import annotations

from roadwatch.platform.coalesce import Coalescer
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.points import Point
from roadwatch.telemetry.store import store_batches

# points in one transaction at most; what is left waits for the next
MAX_POINTS = 50_000
_EXTRAS_KEY = "telemetry.group-commit"

Message = tuple[str, list[Point]]


class GroupCommit:
    def __init__(self, platform: Platform, source: str) -> None:
        self.platform = platform
        self.source = source
        self._commits: Coalescer[Message, None] = Coalescer(
            self._commit, MAX_POINTS, lambda message: len(message[1])
        )

    async def store(self, device_id: str, points: list[Point]) -> None:
        """Returns once the points are committed; raises what the commit raised."""
        await self._commits.submit((device_id, points))

    async def _commit(self, messages: list[Message]) -> list[None]:
        batch: dict[str, list[Point]] = {}
        for device_id, points in messages:
            batch.setdefault(device_id, []).extend(points)
        await store_batches(self.platform, batch, self.source)
        return [None] * len(messages)


def group_commit(platform: Platform, source: str) -> GroupCommit:
    """This process's group commit for points from `source` ("http", "mqtt")."""
    groups: dict[str, GroupCommit] = platform.extras.setdefault(_EXTRAS_KEY, {})
    if source not in groups:
        groups[source] = GroupCommit(platform, source)
    return groups[source]
