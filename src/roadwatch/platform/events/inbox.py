"""The inbox: each consumer group handles an event id once, in the handler's own transaction."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.context import correlation_id_var
from roadwatch.platform.db import Base, Database, UtcDateTime, utcnow
from roadwatch.platform.events.bus import Deliver
from roadwatch.platform.events.envelope import Event
from roadwatch.platform.metrics import EVENTS_CONSUMED, EVENTS_DUPLICATE

log = logging.getLogger(__name__)

Handler = Callable[[Event, AsyncSession], Awaitable[None]]


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
