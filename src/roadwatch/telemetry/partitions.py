"""Daily partitions of `telemetry_ts` on PostgreSQL: made ahead of time, dropped by age.

Points land in the partition of their day; anything outside the partitions made so far
(a back-fill of older data) goes to the default partition, which retention trims by DELETE.
Dropping a whole day is a catalogue change, not a scan, so retention costs nothing per point.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.runtime import Platform

log = logging.getLogger(__name__)

DAYS_AHEAD = 2
CHECK_EVERY_S = 3600.0
_NAME = re.compile(r"^telemetry_ts_p(\d{8})$")
DAY_MS = 24 * 3600 * 1000


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


async def _existing(session: AsyncSession) -> dict[date, str]:
    names = await session.scalars(
        text(
            "SELECT child.relname FROM pg_inherits "
            "JOIN pg_class parent ON parent.oid = pg_inherits.inhparent "
            "JOIN pg_class child ON child.oid = pg_inherits.inhrelid "
            "WHERE parent.relname = 'telemetry_ts'"
        )
    )
    found = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            day = datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC).date()
            found[day] = name
    return found


async def maintain(platform: Platform, today: date | None = None) -> None:
    """Create the coming days' partitions and drop those past retention."""
    if platform.db.dialect != "postgresql":
        return
    today = today or datetime.now(UTC).date()
    async with platform.db.session() as session:
        # replicas starting together would race to create the same partition
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('telemetry_ts'))"))
        existing = await _existing(session)
        for offset in range(DAYS_AHEAD + 1):
            day = today + timedelta(days=offset)
            if day in existing:
                continue
            await session.execute(
                text(
                    f"CREATE TABLE IF NOT EXISTS telemetry_ts_p{day:%Y%m%d} "
                    f"PARTITION OF telemetry_ts FOR VALUES FROM ({_ms(day)}) "
                    f"TO ({_ms(day) + DAY_MS})"
                )
            )
        retention = platform.settings.telemetry.retention_days
        if retention:
            cutoff = today - timedelta(days=retention)
            for day, name in existing.items():
                if day < cutoff:
                    log.info("dropping telemetry partition %s (retention)", name)
                    await session.execute(text(f"DROP TABLE IF EXISTS {name}"))
            await session.execute(
                text("DELETE FROM telemetry_ts_default WHERE ts < :cutoff"),
                {"cutoff": _ms(cutoff)},
            )


async def prepare_partitions(platform: Platform) -> None:
    await maintain(platform)


async def keep_partitions(platform: Platform) -> None:
    while True:
        await asyncio.sleep(CHECK_EVERY_S)
        await maintain(platform)
