"""What the audit service does on every other service's events: append them to the store."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.audit.service import Recorder
from roadwatch.platform.events import Event

# one durable queue bound to every routing key; its name is the inbox group too
GROUP = "audit.store"
PATTERNS = ("#",)


async def record(event: Event, session: AsyncSession) -> None:
    await Recorder(session).append(event)
