"""The outbox relay: publishes committed events in order and marks them published.

It wakes on every commit that wrote events and also polls, so events left by a crashed
process or a broker outage go out as soon as the bus takes them again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from roadwatch.platform.db import Database, utcnow
from roadwatch.platform.events.bus import Bus, BusUnavailable
from roadwatch.platform.events.envelope import Event
from roadwatch.platform.events.outbox import OutboxRow
from roadwatch.platform.metrics import EVENTS_PUBLISHED, OUTBOX_PENDING

log = logging.getLogger(__name__)

# published rows are kept a while for inspection, then removed
KEEP_PUBLISHED = timedelta(hours=1)
MAX_BACKOFF_S = 10.0
# after a wake-up, how long to let further commits join the batch (adds at most this much
# latency to an event, and saves a relay round per commit under load)
COALESCE_S = 0.01


class OutboxRelay:
    def __init__(
        self, db: Database, bus: Bus, poll_interval_s: float = 0.5, batch_size: int = 500
    ) -> None:
        self._db = db
        self._bus = bus
        self._poll = poll_interval_s
        self._batch = batch_size
        self._wake = asyncio.Event()
        self._backoff = 0.0
        db.on_commit(self.wake)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                moved = await self.publish_pending()
                self._backoff = 0.0
            except BusUnavailable as exc:
                self._backoff = min(MAX_BACKOFF_S, max(0.2, self._backoff * 2))
                log.warning("bus unavailable, events wait in the outbox: %s", exc)
                moved = 0
            except Exception:
                self._backoff = min(MAX_BACKOFF_S, max(0.2, self._backoff * 2))
                log.exception("outbox relay failed; retrying")
                moved = 0
            if moved >= self._batch:
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that races with the wake-up, and shutdown would then hang
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._backoff or self._poll):
                    await self._wake.wait()
                    # let the commits of a busy moment gather into one batch
                    await asyncio.sleep(COALESCE_S)
            if self._backoff:
                # a wake-up must not cut a back-off short while the bus is down
                await asyncio.sleep(self._backoff)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished events; return how many went out."""
        if self._db.dialect == "postgresql":
            return await self._publish_locked()
        return await self._publish_single_writer()

    async def _publish_locked(self) -> int:
        # Several replicas each run a relay; SKIP LOCKED lets them share the backlog.
        # plain rows and one UPDATE, not ORM objects: this runs after every busy commit
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    select(OutboxRow.seq, OutboxRow.type, OutboxRow.body)
                    .where(OutboxRow.published_at.is_(None))
                    .order_by(OutboxRow.seq)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            await self._bus.publish([Event.from_json(row.body) for row in rows])
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.seq.in_([row.seq for row in rows]))
                .values(published_at=utcnow())
            )
        self._count(rows)
        return len(rows)

    async def _publish_single_writer(self) -> int:
        # SQLite has one writer; holding its lock while in-process consumers write would
        # deadlock, so read, publish, then mark in a second short transaction.
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    select(OutboxRow.seq, OutboxRow.type, OutboxRow.body)
                    .where(OutboxRow.published_at.is_(None))
                    .order_by(OutboxRow.seq)
                    .limit(self._batch)
                )
            ).all()
        if not rows:
            return 0
        await self._bus.publish([Event.from_json(row.body) for row in rows])
        async with self._db.session() as session:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.seq.in_([row.seq for row in rows]))
                .values(published_at=utcnow())
            )
        self._count(rows)
        return len(rows)

    @staticmethod
    def _count(rows: object) -> None:
        for row in rows:  # type: ignore[attr-defined]
            EVENTS_PUBLISHED.labels(row.type).inc()

    async def pending(self) -> int:
        async with self._db.session() as session:
            count = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.published_at.is_(None))
            )
        OUTBOX_PENDING.set(count or 0)
        return count or 0

    async def prune(self) -> None:
        async with self._db.session() as session:
            await session.execute(
                delete(OutboxRow).where(OutboxRow.published_at < utcnow() - KEEP_PUBLISHED)
            )
