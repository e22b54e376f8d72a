"""Every query of the audit service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.audit.models import (
    AuditChainHead,
    AuditDeviceBoard,
    AuditEntityRef,
    AuditEvent,
    AuditSegment,
)

HEAD_ID = 1


@dataclass(frozen=True)
class EventFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    type: str | None = None
    source: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRepository:
    sortable = {
        "seq": AuditEvent.seq,
        "occurred_at": AuditEvent.occurred_at,
        "recorded_at": AuditEvent.recorded_at,
        "type": AuditEvent.type,
    }

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- the chain ------------------------------------------------------------------------------

    async def lock_head(self) -> AuditChainHead:
        """The chain's head row, locked until commit: one appender at a time on PostgreSQL
        (SQLite has a single writer already)."""
        head = await self.session.scalar(
            select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
        )
        assert head is not None, "migration 0006 creates the chain head"
        return head

    async def head(self) -> AuditChainHead | None:
        return await self.session.get(AuditChainHead, HEAD_ID)

    async def known_events(self, event_ids: list[str]) -> set[str]:
        """Which of these events are stored already."""
        if not event_ids:
            return set()
        found = await self.session.scalars(
            select(AuditEvent.event_id).where(AuditEvent.event_id.in_(event_ids))
        )
        return set(found)

    async def insert(self, rows: Sequence[dict[str, Any]], refs: Sequence[dict[str, Any]]) -> None:
        await self.session.execute(insert(AuditEvent), list(rows))
        if refs:
            await self.session.execute(insert(AuditEntityRef), list(refs))

    async def batch_from(
        self, after_seq: int, limit: int, until_seq: int | None = None
    ) -> list[Any]:
        statement = select(AuditEvent).where(AuditEvent.seq > after_seq)
        if until_seq is not None:
            statement = statement.where(AuditEvent.seq <= until_seq)
        rows = await self.session.scalars(statement.order_by(AuditEvent.seq).limit(limit))
        return list(rows.all())

    async def first_seq(self) -> int | None:
        return await self.session.scalar(select(func.min(AuditEvent.seq)))

    async def hash_at(self, seq: int) -> str | None:
        return await self.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))

    # -- segments -------------------------------------------------------------------------------

    async def segments(self) -> list[AuditSegment]:
        rows = await self.session.scalars(select(AuditSegment).order_by(AuditSegment.first_seq))
        return list(rows.all())

    async def last_segment(self) -> AuditSegment | None:
        return await self.session.scalar(
            select(AuditSegment).order_by(AuditSegment.first_seq.desc()).limit(1)
        )

    async def last_seq_before(self, cutoff: datetime) -> int | None:
        return await self.session.scalar(
            select(func.max(AuditEvent.seq)).where(AuditEvent.recorded_at < cutoff)
        )

    async def prune_through(self, last_seq: int) -> None:
        await self.session.execute(delete(AuditEntityRef).where(AuditEntityRef.seq <= last_seq))
        await self.session.execute(delete(AuditEvent).where(AuditEvent.seq <= last_seq))

    # -- queries --------------------------------------------------------------------------------

    def query(self, f: EventFilter) -> Select[Any]:
        statement = select(AuditEvent)
        if f.entity_type is not None or f.entity_id is not None:
            own = []
            referenced = select(AuditEntityRef.seq)
            if f.entity_type is not None:
                own.append(AuditEvent.entity_type == f.entity_type)
                referenced = referenced.where(AuditEntityRef.entity_type == f.entity_type)
            if f.entity_id is not None:
                own.append(AuditEvent.entity_id == f.entity_id)
                referenced = referenced.where(AuditEntityRef.entity_id == f.entity_id)
            own_clause = own[0] if len(own) == 1 else own[0] & own[1]
            statement = statement.where(or_(own_clause, AuditEvent.seq.in_(referenced)))
        for column, value in (
            (AuditEvent.actor, f.actor),
            (AuditEvent.type, f.type),
            (AuditEvent.source, f.source),
            (AuditEvent.correlation_id, f.correlation_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if f.since is not None:
            statement = statement.where(AuditEvent.occurred_at >= f.since)
        if f.until is not None:
            statement = statement.where(AuditEvent.occurred_at <= f.until)
        return statement

    async def by_event_id(self, event_id: str) -> AuditEvent | None:
        return await self.session.scalar(select(AuditEvent).where(AuditEvent.event_id == event_id))

    async def of_entity(
        self, entity_type: str, entity_id: str, event_types: frozenset[str]
    ) -> list[AuditEvent]:
        """An entity's events that its reducer folds, in chain order."""
        referenced = select(AuditEntityRef.seq).where(
            AuditEntityRef.entity_type == entity_type, AuditEntityRef.entity_id == entity_id
        )
        rows = await self.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq.in_(referenced), AuditEvent.type.in_(list(event_types)))
            .order_by(AuditEvent.seq)
        )
        return list(rows.all())

    # -- the device board -----------------------------------------------------------------------

    async def board_rows(self, device_ids: set[str]) -> dict[str, AuditDeviceBoard]:
        if not device_ids:
            return {}
        rows = await self.session.scalars(
            select(AuditDeviceBoard).where(AuditDeviceBoard.device_id.in_(list(device_ids)))
        )
        return {row.device_id: row for row in rows}

    def board_query(self) -> Select[Any]:
        return select(AuditDeviceBoard)

    async def clear_board(self) -> None:
        await self.session.execute(delete(AuditDeviceBoard))

    async def insert_board(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(AuditDeviceBoard), rows)
