"""Appending an event to the store: the next link of the chain, its entity references, and
the device board kept up to date in the same transaction."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.audit.chain import canonical, link_hash
from roadwatch.audit.models import AuditDeviceBoard, AuditEvent
from roadwatch.audit.projections import BOARD_EVENTS, board_defaults, board_values, fold_board
from roadwatch.audit.reducers import BATCH_INGESTED, Fact, subjects
from roadwatch.audit.repository import AuditRepository
from roadwatch.platform.db import utcnow
from roadwatch.platform.events import Event


def stored_payload(event: Event) -> dict[str, Any]:
    """What the store keeps of an event's payload: all of it, except a telemetry batch's
    points, which the time-series store holds already (docs/events.md)."""
    if event.type != BATCH_INGESTED:
        return event.payload
    points = event.payload.get("points") or []
    summary = {k: v for k, v in event.payload.items() if k != "points"}
    summary["keys"] = sorted({str(p[0]) for p in points if p})
    return summary


def fact_of(row: AuditEvent) -> Fact:
    return Fact(row.type, row.entity_type, row.entity_id, orjson.loads(row.payload))


class Recorder:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = AuditRepository(session)

    async def append(self, event: Event) -> AuditEvent | None:
        """Add the event as the chain's next link; None if it is stored already."""
        if await self.repo.has_event(event.id):
            return None
        head = await self.repo.lock_head()
        payload = stored_payload(event)
        row = AuditEvent(
            seq=head.seq + 1,
            event_id=event.id,
            type=event.type,
            occurred_at=event.occurred_at,
            recorded_at=utcnow(),
            actor=event.actor,
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            payload=canonical(payload),
            correlation_id=event.correlation_id or "",
            source=event.source or event.type.split(".", 1)[0],
            prev_hash=head.hash,
            hash="",
        )
        row.hash = link_hash(head.hash, row)
        fact = Fact(row.type, row.entity_type, row.entity_id, payload)
        self.repo.add(row, subjects(fact))
        head.seq, head.hash = row.seq, row.hash
        await self._project(fact, row.seq)
        await self.session.flush()
        return row

    async def _project(self, fact: Fact, seq: int) -> None:
        if fact.type not in BOARD_EVENTS or fact.entity_type != "device":
            return
        existing = await self.repo.board_row(fact.entity_id)
        before = board_values(existing) if existing else None
        after = fold_board(before, fact, seq)
        if after is None or after is before:
            return
        if existing is None:
            self.session.add(AuditDeviceBoard(**board_defaults(after)))
        else:
            for key, value in after.items():
                setattr(existing, key, value)
