"""Alarms: list and read; acknowledge, clear, assign and comment (the lifecycle in
alarm_states.py decides what is allowed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from roadwatch.analytics.alarm_states import AlarmStatus, Severity
from roadwatch.analytics.schemas import AlarmAssign, AlarmRead, CommentCreate, CommentRead
from roadwatch.analytics.service.alarms import AlarmService, comment_read, to_read
from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import SessionDep

router = APIRouter(prefix="/api/v1/analytics/alarms", tags=["analytics"])

CanRead = Annotated[Principal, authorize("alarms:read")]
CanWrite = Annotated[Principal, authorize("alarms:write")]


@router.get("", operation_id="analytics_alarms_list")
async def list_alarms(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    status: Annotated[list[AlarmStatus] | None, Query(description="any of these")] = None,
    severity: Annotated[list[Severity] | None, Query(description="any of these")] = None,
    originator_id: Annotated[str | None, Query(max_length=36)] = None,
    type: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[AlarmRead]:
    items, total = await AlarmService(session, principal.actor).search(
        page,
        [s.value for s in status] if status else None,
        [s.value for s in severity] if severity else None,
        originator_id,
        type,
    )
    return Page(
        items=[to_read(a) for a in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/{alarm_id}", operation_id="analytics_alarms_get")
async def get_alarm(alarm_id: str, session: SessionDep, principal: CanRead) -> AlarmRead:
    return to_read(await AlarmService(session, principal.actor).get(alarm_id))


@router.post("/{alarm_id}/ack", operation_id="analytics_alarms_acknowledge")
async def acknowledge_alarm(alarm_id: str, session: SessionDep, principal: CanWrite) -> AlarmRead:
    """ACTIVE_UNACK → ACTIVE_ACK, CLEARED_UNACK → CLEARED_ACK; 409 if already acknowledged."""
    return to_read(await AlarmService(session, principal.actor).acknowledge(alarm_id))


@router.post("/{alarm_id}/clear", operation_id="analytics_alarms_clear")
async def clear_alarm(alarm_id: str, session: SessionDep, principal: CanWrite) -> AlarmRead:
    """ACTIVE_UNACK → CLEARED_UNACK, ACTIVE_ACK → CLEARED_ACK; 409 if already cleared."""
    return to_read(await AlarmService(session, principal.actor).clear(alarm_id))


@router.put("/{alarm_id}/assignee", operation_id="analytics_alarms_assign")
async def assign_alarm(
    alarm_id: str, data: AlarmAssign, session: SessionDep, principal: CanWrite
) -> AlarmRead:
    return to_read(await AlarmService(session, principal.actor).assign(alarm_id, data.assignee_id))


@router.get("/{alarm_id}/comments", operation_id="analytics_alarms_list_comments")
async def list_comments(
    alarm_id: str, session: SessionDep, principal: CanRead
) -> list[CommentRead]:
    comments = await AlarmService(session, principal.actor).comments(alarm_id)
    return [comment_read(c) for c in comments]


@router.post(
    "/{alarm_id}/comments",
    status_code=status.HTTP_201_CREATED,
    operation_id="analytics_alarms_comment",
)
async def add_comment(
    alarm_id: str, data: CommentCreate, session: SessionDep, principal: CanWrite
) -> CommentRead:
    return comment_read(await AlarmService(session, principal.actor).comment(alarm_id, data.text))
