"""The transactional outbox: an event is a row written in the same transaction as its change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base, UtcDateTime, utcnow
from roadwatch.platform.events.envelope import Event


class OutboxRow(Base):
    __tablename__ = "platform_outbox"

    # the order of commit attempts; the relay publishes in this order
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_platform_outbox_unpublished", "published_at", "seq"),)


def publish(session: AsyncSession, *events: Event) -> None:
    """Record events to be published once, and only if, the session's transaction commits."""
    for event in events:
        session.add(OutboxRow(event_id=event.id, type=event.type, body=event.to_json()))
    session.info["outbox_written"] = True
