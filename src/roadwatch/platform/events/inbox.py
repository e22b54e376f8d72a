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
from roadwatch.platform.events.bus import Deliver
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


def idempotent(
    db: Database, group: str, handler: Handler, handle_many: BatchHandler | None = None
) -> Deliver:
    """Wrap a handler so that it runs at most once per event id for this group.

    The inbox rows and the handler's writes commit together: either both happen or neither,
    so a crash between them re-delivers and the handler runs again from scratch. Events
    delivered together are handled in one transaction (a bulk import's thousands of events
    cost a few commits, not thousands); if that fails, they are handled one by one, so one
    event that cannot be handled holds up only itself and those after it. A consumer that
    can do better with the whole run at once (the audit store) gives `handle_many`.
    """

    async def handle_all(events: Sequence[Event]) -> None:
        async with db.session() as session:
            ids = [e.id for e in events]
            seen = set(
                await session.scalars(
                    select(InboxRow.event_id).where(
                        InboxRow.group == group, InboxRow.event_id.in_(ids)
                    )
                )
            )
            fresh: list[Event] = []
            for event in events:
                if event.id in seen:
                    EVENTS_DUPLICATE.labels(group).inc()
                    continue
                seen.add(event.id)  # a repeat within the same delivery
                fresh.append(event)
            if not fresh:
                return
            now = utcnow()
            # one statement for the run; a concurrent replica handling the same id loses at
            # commit on the primary key
            await session.execute(
                insert(InboxRow),
                [{"group": group, "event_id": e.id, "handled_at": now} for e in fresh],
            )
            if handle_many is not None:
                await handle_many(fresh, session)
            else:
                for event in fresh:
                    token = correlation_id_var.set(event.correlation_id or None)
                    try:
                        await handler(event, session)
                    finally:
                        correlation_id_var.reset(token)
        for event in fresh:
            EVENTS_CONSUMED.labels(group, event.type).inc()

    async def deliver(events: Sequence[Event]) -> None:
        if len(events) == 1:
            await handle_all(events)
            return
        try:
            await handle_all(events)
        except Exception:
            log.warning("group %s: a batch of %d events failed; one by one", group, len(events))
            for event in events:
                await handle_all([event])

    return deliver
