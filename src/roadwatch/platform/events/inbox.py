"""The inbox: each consumer group handles an event id once, in the handler's own transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlalchemy import String, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.context import correlation_id_var
from roadwatch.platform.db import Base, Database, UtcDateTime, utcnow
from roadwatch.platform.events.bus import Deliver, DeliverMany
from roadwatch.platform.events.envelope import Event
from roadwatch.platform.metrics import EVENTS_CONSUMED, EVENTS_DUPLICATE

log = logging.getLogger(__name__)

Handler = Callable[[Event, AsyncSession], Awaitable[None]]
# a run of events (new to the group, in order) handled in one transaction
BatchHandler = Callable[[Sequence[Event], AsyncSession], Awaitable[None]]


class InboxRow(Base):
    __tablename__ = "platform_inbox"

    group: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def idempotent(db: Database, group: str, handler: Handler) -> Deliver:
    """Wrap a handler so that it runs at most once per event id for this group.

    The inbox row and the handler's writes commit together: either both happen or neither,
    so a crash between them re-delivers and the handler runs again from scratch.
    """

    async def deliver(event: Event) -> None:
        token = correlation_id_var.set(event.correlation_id or None)
        try:
            async with db.session() as session:
                seen = await session.scalar(
                    select(InboxRow.event_id).where(
                        InboxRow.group == group, InboxRow.event_id == event.id
                    )
                )
                if seen is not None:
                    EVENTS_DUPLICATE.labels(group).inc()
                    return
                session.add(InboxRow(group=group, event_id=event.id))
                # a concurrent replica handling the same id loses at commit on the primary key
                await session.flush()
                await handler(event, session)
            EVENTS_CONSUMED.labels(group, event.type).inc()
        finally:
            correlation_id_var.reset(token)

    return deliver


def idempotent_many(db: Database, group: str, handler: BatchHandler) -> DeliverMany:
    """idempotent() for a run of events: one transaction records the ids not seen before
    and hands just those events, in order, to the handler."""

    async def deliver(events: Sequence[Event]) -> None:
        async with db.session() as session:
            ids = [event.id for event in events]
            seen = set(
                await session.scalars(
                    select(InboxRow.event_id).where(
                        InboxRow.group == group, InboxRow.event_id.in_(ids)
                    )
                )
            )
            fresh: dict[str, Event] = {}
            for event in events:
                if event.id in seen or event.id in fresh:
                    EVENTS_DUPLICATE.labels(group).inc()
                else:
                    fresh[event.id] = event
            if not fresh:
                return
            now = utcnow()
            await session.execute(
                insert(InboxRow),
                [{"group": group, "event_id": i, "handled_at": now} for i in fresh],
            )
            await handler(list(fresh.values()), session)
        for event in fresh.values():
            EVENTS_CONSUMED.labels(group, event.type).inc()

    return deliver
