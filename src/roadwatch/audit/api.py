"""HTTP routes of the audit service: the event store, entity state and history, the device
board. Auditors and administrators read everything; a user reads the audit of their own
account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from roadwatch.audit.reducers import REDUCERS
from roadwatch.audit.repository import AuditRepository, EventFilter
from roadwatch.audit.schemas import (
    AuditEventRead,
    ChainHead,
    DeviceBoardRow,
    EntityState,
    EntityTypeRead,
    ExportFormat,
    HistoryEntry,
)
from roadwatch.audit.service import AuditQueries, to_read
from roadwatch.audit.service.queries import check_range, reducer_for, utc
from roadwatch.platform.auth import CurrentPrincipal, Principal, authorize
from roadwatch.platform.auth.ownership import require_owner_or
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import PlatformDep, ReadSessionDep

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

CanRead = Annotated[Principal, authorize("audit:read")]
READ = "audit:read"

Since = Annotated[
    datetime | None, Query(alias="from", description="events that occurred at or after (ISO 8601)")
]
Until = Annotated[
    datetime | None, Query(alias="to", description="events that occurred at or before (ISO 8601)")
]


def _filter(
    entity_type: Annotated[str | None, Query(max_length=60)] = None,
    entity_id: Annotated[str | None, Query(max_length=254)] = None,
    actor: Annotated[
        str | None, Query(max_length=120, description="`user:<id>`, `device:<id>`, `system`…")
    ] = None,
    type: Annotated[
        str | None, Query(max_length=200, description="e.g. devices.device.created")
    ] = None,
    source: Annotated[str | None, Query(max_length=60, description="publishing service")] = None,
    correlation_id: Annotated[str | None, Query(max_length=100)] = None,
    since: Since = None,
    until: Until = None,
) -> EventFilter:
    return EventFilter(
        entity_type, entity_id, actor, type, source, correlation_id, utc(since), utc(until)
    )


Filter = Annotated[EventFilter, Depends(_filter)]


def _owner_of(entity_type: str, entity_id: str) -> str | None:
    # people own the audit of their own account, nothing else
    return entity_id if entity_type == "user" else None


@router.get("/events", operation_id="audit_events_list")
async def list_events(
    session: ReadSessionDep, principal: CanRead, page: PageParamsDep, f: Filter
) -> Page[AuditEventRead]:
    """Recorded events, filtered; sort by `seq` (default), `occurred_at`, `recorded_at`, `type`."""
    rows, total = await AuditQueries(session).search(f, page)
    return Page(items=[to_read(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/events/export",
    operation_id="audit_events_export",
    responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}},
)
async def export_events(
    session: ReadSessionDep,
    platform: PlatformDep,
    principal: CanRead,
    f: Filter,
    format: Annotated[ExportFormat, Query(description="jsonl or csv")] = ExportFormat.JSONL,
) -> StreamingResponse:
    """Every matching event in chain order, streamed as JSON lines or CSV."""
    # checked before the first byte, so bad input is still a 4xx
    check_range(f.since, f.until)

    async def body() -> AsyncIterator[bytes]:
        # the request's session ends when this handler returns; the stream needs its own
        async with platform.db.read_session() as streaming:
            async for chunk in AuditQueries(streaming).export(f, format):
                yield chunk

    media = "application/x-ndjson" if format is ExportFormat.JSONL else "text/csv"
    return StreamingResponse(
        body(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format.value}"'},
    )


@router.get("/events/{event_id}", operation_id="audit_events_get")
async def get_event(event_id: str, session: ReadSessionDep, principal: CanRead) -> AuditEventRead:
    return to_read(await AuditQueries(session).get(event_id))


@router.get("/chain", operation_id="audit_chain_head")
async def chain_head(session: ReadSessionDep, principal: CanRead) -> ChainHead:
    """The last link of the hash chain; `roadwatch audit checkpoint` signs it."""
    repo = AuditRepository(session)
    head = await repo.head()
    segment = await repo.last_segment()
    return ChainHead(
        seq=head.seq if head else 0,
        hash=head.hash if head else "0" * 64,
        archived_through=segment.last_seq if segment else 0,
    )


@router.get("/entity-types", operation_id="audit_entity_types")
async def entity_types(principal: CanRead) -> list[EntityTypeRead]:
    """The entity types whose state can be rebuilt, with the events that build it."""
    return [
        EntityTypeRead(
            entity_type=r.entity_type,
            owner=r.owner,
            event_types=sorted(r.event_types),
            description=r.description,
        )
        for r in REDUCERS.values()
    ]


@router.get("/entities/{entity_type}/{entity_id}/state", operation_id="audit_entity_state")
async def entity_state(
    entity_type: str,
    entity_id: str,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    at: Annotated[
        datetime | None, Query(description="the moment to rebuild (ISO 8601); now if absent")
    ] = None,
) -> EntityState:
    """The entity's state at `at`, folded from its events; `state` is null (and `version` 0)
    when no event of it had occurred by then, or none is recorded."""
    require_owner_or(principal, _owner_of(entity_type, entity_id), READ)
    return await AuditQueries(session).state(entity_type, entity_id, utc(at))


@router.get("/entities/{entity_type}/{entity_id}/history", operation_id="audit_entity_history")
async def entity_history(
    entity_type: str,
    entity_id: str,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    page: PageParamsDep,
    since: Since = None,
    until: Until = None,
) -> Page[HistoryEntry]:
    """Each event of the entity, oldest first, with the fields it changed (before, after)."""
    require_owner_or(principal, _owner_of(entity_type, entity_id), READ)
    items, total = await AuditQueries(session).history(
        entity_type, entity_id, utc(since), utc(until), page
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/entities/{entity_type}/{entity_id}/events", operation_id="audit_entity_events")
async def entity_events(
    entity_type: str,
    entity_id: str,
    session: ReadSessionDep,
    principal: CurrentPrincipal,
    page: PageParamsDep,
    since: Since = None,
    until: Until = None,
) -> Page[AuditEventRead]:
    """Every recorded event about the entity (also those that change none of its fields)."""
    require_owner_or(principal, _owner_of(entity_type, entity_id), READ)
    reducer_for(entity_type)
    rows, total = await AuditQueries(session).search(
        EventFilter(
            entity_type=entity_type, entity_id=entity_id, since=utc(since), until=utc(until)
        ),
        page,
    )
    return Page(items=[to_read(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/device-board", operation_id="audit_device_board")
async def device_board(
    session: ReadSessionDep, principal: CanRead, page: PageParamsDep
) -> Page[DeviceBoardRow]:
    """Every device with its registry state and status, as the event store tells it."""
    items, total = await AuditQueries(session).board(page)
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
