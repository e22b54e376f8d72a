"""What the audit service does on every other service's events: append them to the store."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.audit.service import Recorder
from roadwatch.platform.events import Event

# one durable queue bound to every routing key; its name is the inbox group too
GROUP = "audit.store"
PATTERNS = ("#",)


async def record(event: Event, session: AsyncSession) -> None:
    await Recorder(session).append(event)


async def record_many(events: Sequence[Event], session: AsyncSession) -> None:
    # what the bus hands over together is appended in one transaction: the store keeps up
    # with every service's events at once (see bench/audit.py)
    await Recorder(session).append_many(events)
