"""Recomputing rollups from analytics' stored points over a time range, one device per
transaction (so a rebuild of a large range never holds one huge transaction, and a device
whose batches keep arriving is locked only while its own buckets are redone)."""

from __future__ import annotations

from dataclasses import dataclass

from roadwatch.analytics.repository import PointRepository
from roadwatch.analytics.service.rollups import HOUR_MS, RollupService
from roadwatch.platform.db import Database


@dataclass(frozen=True)
class Rebuilt:
    start_ts: int
    end_ts: int
    devices: int
    points: int


def whole_hours(start_ts: int, end_ts: int) -> tuple[int, int]:
    """The range widened to whole hours: every bucket of every resolution it touches."""
    return start_ts - start_ts % HOUR_MS, end_ts + (-end_ts) % HOUR_MS


async def rebuild(
    db: Database, start_ts: int, end_ts: int, device_ids: list[str] | None = None
) -> Rebuilt:
    start, end = whole_hours(start_ts, end_ts)
    if device_ids is None:
        async with db.session() as session:
            device_ids = await PointRepository(session).devices_with_points(start, end)
    points = 0
    for device_id in device_ids:
        async with db.session() as session:
            points += await RollupService(session).rebuild_device(device_id, start, end)
    return Rebuilt(start, end, len(device_ids), points)
