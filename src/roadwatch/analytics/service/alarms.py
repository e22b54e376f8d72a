"""Alarm use cases: raising (de-duplicated per originator and type), the lifecycle actions,
assignment and comments. Every change publishes an event carrying the alarm's full state."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.analytics import events
from roadwatch.analytics.alarm_states import ACTIVE, AlarmAction, AlarmStatus, transition
from roadwatch.analytics.models import Alarm, AlarmComment
from roadwatch.analytics.repository import AlarmRepository
from roadwatch.analytics.schemas import AlarmRead, CommentRead
from roadwatch.platform.errors import NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate

SEVERITY_ORDER = ("CRITICAL", "MAJOR", "MINOR", "WARNING", "INDETERMINATE")


def now_ms() -> int:
    return int(time.time() * 1000)


def to_read(alarm: Alarm) -> AlarmRead:
    status = AlarmStatus(alarm.status)
    return AlarmRead.model_validate(
        {
            "id": alarm.id,
            "type": alarm.type,
            "originator_type": alarm.originator_type,
            "originator_id": alarm.originator_id,
            "severity": alarm.severity,
            "status": status,
            "acknowledged": status in (AlarmStatus.ACTIVE_ACK, AlarmStatus.CLEARED_ACK),
            "cleared": status not in ACTIVE,
            "rule_id": alarm.rule_id,
            "key": alarm.key,
            "start_ts": alarm.start_ts,
            "end_ts": alarm.end_ts,
            "ack_ts": alarm.ack_ts,
            "clear_ts": alarm.clear_ts,
            "assignee_id": alarm.assignee_id,
            "details": alarm.details,
            "created_at": alarm.created_at,
            "updated_at": alarm.updated_at,
        }
    )


def comment_read(comment: AlarmComment) -> CommentRead:
    return CommentRead.model_validate(comment, from_attributes=True)


class AlarmService:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.repo = AlarmRepository(session)
        self.actor = actor

    async def _publish(self, type: str, alarm: Alarm, **extra: Any) -> None:
        await self.session.flush()
        await self.session.refresh(alarm)
        state = to_read(alarm).model_dump(mode="json")
        publish(self.session, events.alarm_event(type, alarm.id, state, self.actor, **extra))

    async def get(self, alarm_id: str) -> Alarm:
        alarm = await self.session.get(Alarm, alarm_id)
        if alarm is None:
            raise NotFound(f"alarm {alarm_id} not found")
        return alarm

    async def search(
        self,
        params: PageParams,
        statuses: list[str] | None,
        severities: list[str] | None,
        originator_id: str | None,
        type: str | None,
    ) -> tuple[list[Alarm], int]:
        return await paginate(
            self.session,
            self.repo.query(statuses, severities, originator_id, type),
            params,
            self.repo.sortable,
            tiebreak=Alarm.id,
            default_sort="-created_at",
        )

    async def raise_alarm(
        self,
        originator_id: str,
        type: str,
        severity: str,
        ts: int,
        details: dict[str, Any],
        rule_id: str | None = None,
        key: str | None = None,
    ) -> Alarm:
        """The open alarm of this originator and type, updated; a new one if none is open."""
        alarm = await self.repo.open_alarm(originator_id, type)
        if alarm is not None:
            changed = alarm.severity != severity or alarm.details != details or ts > alarm.end_ts
            alarm.end_ts = max(alarm.end_ts, ts)
            alarm.severity = severity
            alarm.details = details
            if changed:
                await self._publish(events.ALARM_UPDATED, alarm)
            return alarm
        alarm = Alarm(
            type=type,
            originator_type="device",
            originator_id=originator_id,
            severity=severity,
            status=AlarmStatus.ACTIVE_UNACK.value,
            rule_id=rule_id,
            key=key,
            open_key=f"{originator_id}|{type}",
            start_ts=ts,
            end_ts=ts,
            details=details,
        )
        self.session.add(alarm)
        await self._publish(events.ALARM_CREATED, alarm)
        return alarm

    async def touch(self, originator_id: str, type: str, ts: int) -> None:
        """The condition still holds at ts: the open alarm's end_ts moves. That is a change
        of its state like any other, so it is an event (one per batch at most): the audit
        trail rebuilds alarms from their events alone."""
        alarm = await self.repo.open_alarm(originator_id, type)
        if alarm is not None and ts > alarm.end_ts:
            alarm.end_ts = ts
            await self._publish(events.ALARM_UPDATED, alarm)

    async def clear_open(
        self, originator_id: str, type: str, ts: int, details: dict[str, Any]
    ) -> Alarm | None:
        """Clear the open alarm of this originator and type, when its condition ended."""
        alarm = await self.repo.open_alarm(originator_id, type)
        if alarm is None:
            return None
        alarm.details = {**alarm.details, **details}
        return await self._clear(alarm, ts)

    async def _clear(self, alarm: Alarm, ts: int) -> Alarm:
        alarm.status = transition(alarm.status, AlarmAction.CLEAR).value
        alarm.clear_ts = ts
        alarm.end_ts = max(alarm.end_ts, ts)
        alarm.open_key = None
        await self._publish(events.ALARM_CLEARED, alarm)
        return alarm

    async def acknowledge(self, alarm_id: str) -> Alarm:
        alarm = await self.get(alarm_id)
        alarm.status = transition(alarm.status, AlarmAction.ACKNOWLEDGE).value
        alarm.ack_ts = now_ms()
        await self._publish(events.ALARM_ACKNOWLEDGED, alarm)
        return alarm

    async def clear(self, alarm_id: str) -> Alarm:
        return await self._clear(await self.get(alarm_id), now_ms())

    async def assign(self, alarm_id: str, assignee_id: str | None) -> Alarm:
        alarm = await self.get(alarm_id)
        if alarm.assignee_id == assignee_id:
            return alarm
        alarm.assignee_id = assignee_id
        await self._publish(
            events.ALARM_ASSIGNED if assignee_id else events.ALARM_UNASSIGNED, alarm
        )
        return alarm

    async def comment(self, alarm_id: str, text: str) -> AlarmComment:
        alarm = await self.get(alarm_id)
        comment = AlarmComment(alarm_id=alarm.id, author=self.actor, text=text)
        self.session.add(comment)
        await self.session.flush()
        await self.session.refresh(comment)
        await self._publish(
            events.ALARM_COMMENTED, alarm, comment=comment_read(comment).model_dump(mode="json")
        )
        return comment

    async def comments(self, alarm_id: str) -> list[AlarmComment]:
        await self.get(alarm_id)
        return await self.repo.comments(alarm_id)
