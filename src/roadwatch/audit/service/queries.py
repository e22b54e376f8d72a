"""Reading the store: events by any filter, exports, an entity's state at a time and its
history of changes."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.audit.models import AuditDeviceBoard, AuditEvent
from roadwatch.audit.reducers import REDUCERS, Reducer, diff
from roadwatch.audit.repository import AuditRepository, EventFilter
from roadwatch.audit.schemas import (
    AuditEventRead,
    Change,
    DeviceBoardRow,
    EntityState,
    ExportFormat,
    HistoryEntry,
)
from roadwatch.audit.service.recording import fact_of
from roadwatch.platform.db import utcnow
from roadwatch.platform.errors import InvalidInput, NotFound
from roadwatch.platform.pagination import PageParams, paginate

EXPORT_CHUNK = 1000
CSV_COLUMNS = (
    "seq",
    "id",
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "entity_type",
    "entity_id",
    "correlation_id",
    "source",
    "payload",
    "prev_hash",
    "hash",
)


def to_read(row: AuditEvent) -> AuditEventRead:
    return AuditEventRead(
        seq=row.seq,
        id=row.event_id,
        type=row.type,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        actor=row.actor,
        entity_type=row.entity_type,
        entity_id=row.entity_id,
        payload=orjson.loads(row.payload),
        correlation_id=row.correlation_id,
        source=row.source,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def reducer_for(entity_type: str) -> Reducer:
    reducer = REDUCERS.get(entity_type)
    if reducer is None:
        raise NotFound(
            f"entity_type: no reducer for {entity_type!r}; one of {', '.join(sorted(REDUCERS))}",
            field="entity_type",
        )
    return reducer


def utc(value: datetime | None) -> datetime | None:
    """A time given without a zone is taken as UTC, as every time in the store is."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def check_range(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since > until:
        raise InvalidInput("from: must not be after `to`", field="from")


class AuditQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = AuditRepository(session)

    async def search(self, f: EventFilter, params: PageParams) -> tuple[list[AuditEvent], int]:
        check_range(f.since, f.until)
        return await paginate(
            self.session,
            self.repo.query(f),
            params,
            self.repo.sortable,
            tiebreak=AuditEvent.seq,
            default_sort="seq",
        )

    async def get(self, event_id: str) -> AuditEvent:
        row = await self.repo.by_event_id(event_id)
        if row is None:
            raise NotFound(f"event {event_id} not found")
        return row

    async def export(self, f: EventFilter, fmt: ExportFormat) -> AsyncIterator[bytes]:
        """The matching events in chain order, a chunk of rows at a time (keyset on seq)."""
        check_range(f.since, f.until)
        statement = self.repo.query(f).order_by(AuditEvent.seq)
        if fmt is ExportFormat.CSV:
            yield _csv_line(CSV_COLUMNS)
        after = 0
        while True:
            rows = list(
                (
                    await self.session.scalars(
                        statement.where(AuditEvent.seq > after).limit(EXPORT_CHUNK)
                    )
                ).all()
            )
            if not rows:
                return
            for row in rows:
                read = to_read(row)
                if fmt is ExportFormat.JSONL:
                    yield read.model_dump_json().encode() + b"\n"
                else:
                    data = read.model_dump(mode="json")
                    data["payload"] = row.payload
                    yield _csv_line(tuple(str(data[c]) for c in CSV_COLUMNS))
            after = rows[-1].seq

    async def state(self, entity_type: str, entity_id: str, at: datetime | None) -> EntityState:
        reducer = reducer_for(entity_type)
        when = at or utcnow()
        rows = [
            r
            for r in await self.repo.of_entity(entity_type, entity_id, reducer.event_types)
            if r.occurred_at <= when
        ]
        return EntityState(
            entity_type=entity_type,
            entity_id=entity_id,
            at=when,
            state=reducer.fold([fact_of(r) for r in rows]),
            version=len(rows),
            last_event_id=rows[-1].event_id if rows else None,
            last_occurred_at=rows[-1].occurred_at if rows else None,
        )

    async def history(
        self,
        entity_type: str,
        entity_id: str,
        since: datetime | None,
        until: datetime | None,
        params: PageParams,
    ) -> tuple[list[HistoryEntry], int]:
        check_range(since, until)
        reducer = reducer_for(entity_type)
        rows = await self.repo.of_entity(entity_type, entity_id, reducer.event_types)
        entries: list[HistoryEntry] = []
        state: dict[str, Any] | None = None
        for version, row in enumerate(rows, start=1):
            after = reducer.apply(state, fact_of(row))
            if (since is None or row.occurred_at >= since) and (
                until is None or row.occurred_at <= until
            ):
                entries.append(
                    HistoryEntry(
                        version=version,
                        seq=row.seq,
                        event_id=row.event_id,
                        type=row.type,
                        occurred_at=row.occurred_at,
                        actor=row.actor,
                        correlation_id=row.correlation_id,
                        changes=[Change(**c) for c in diff(state or {}, after or {})],
                    )
                )
            state = after
        return entries[params.offset : params.offset + params.limit], len(entries)

    async def board(self, params: PageParams) -> tuple[list[DeviceBoardRow], int]:
        rows, total = await paginate(
            self.session,
            self.repo.board_query(),
            params,
            {"name": AuditDeviceBoard.name, "type": AuditDeviceBoard.type},
            tiebreak=AuditDeviceBoard.device_id,
            default_sort="name",
        )
        return [DeviceBoardRow.model_validate(r) for r in rows], total


def _csv_line(values: tuple[Any, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue().encode()
