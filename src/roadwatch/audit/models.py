"""Tables of the audit service: the hash-chained event store and what is kept beside it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base, UtcDateTime, utcnow

# the primary key type of sequence numbers: 64-bit on PostgreSQL, SQLite's rowid integer
SeqType = BigInteger().with_variant(Integer, "sqlite")


class AuditEvent(Base):
    """One domain event, as received; never updated or deleted except by archiving.

    `seq` is assigned here, without gaps, in the order events are appended: a missing number
    is a deleted row. `hash` covers every other column and `prev_hash`, the hash of `seq - 1`.
    The payload is kept as the canonical JSON text that was hashed, so verification reads
    exactly the bytes it checks.
    """

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(254))
    payload: Mapped[str] = mapped_column(Text)
    correlation_id: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(60))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_event_entity", "entity_type", "entity_id", "seq"),
        Index("ix_audit_event_actor", "actor", "seq"),
        Index("ix_audit_event_type", "type", "seq"),
        Index("ix_audit_event_source", "source", "seq"),
        Index("ix_audit_event_correlation", "correlation_id"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )


class AuditEntityRef(Base):
    """Which entities an event is about, for each entity type a reducer rebuilds.

    Mostly the event's own entity; sometimes another (a login is keyed by the address typed,
    and changes the user it names in its payload).
    """

    __tablename__ = "audit_entity_ref"

    entity_type: Mapped[str] = mapped_column(String(60), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(254), primary_key=True)
    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)


class AuditChainHead(Base):
    """The last link of the chain (one row): appenders lock it, so links never fork."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(SeqType)
    hash: Mapped[str] = mapped_column(String(64))


class AuditSegment(Base):
    """A run of events archived to the object store and pruned from `audit_event`.

    The chain stays verifiable: the first event kept links to `last_hash`, and the archive
    object can be fetched and walked again (its SHA-256 is `sha256`).
    """

    __tablename__ = "audit_segment"

    first_seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(SeqType)
    prev_hash: Mapped[str] = mapped_column(String(64))
    last_hash: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    archived_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditDeviceBoard(Base):
    """A read model rebuilt from the store alone: every device with its registry state and
    whether it is online (the device status board)."""

    __tablename__ = "audit_device_board"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), default="")
    type: Mapped[str] = mapped_column(String(40), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    has_credentials: Mapped[bool] = mapped_column(Boolean, default=False)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_activity_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # the last event folded in
    seq: Mapped[int] = mapped_column(SeqType)
