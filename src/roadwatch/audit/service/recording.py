"""Appending an event to the store: the next link of the chain, its entity references, and
the device board kept up to date in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
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


@dataclass
class NewLink:
    seq: int
    event_id: str
    type: str
    occurred_at: datetime
    recorded_at: datetime
    actor: str
    entity_type: str
    entity_id: str
    payload: str
    correlation_id: str
    source: str
    prev_hash: str
    hash: str = ""


def fact_of(row: AuditEvent) -> Fact:
    return Fact(row.type, row.entity_type, row.entity_id, orjson.loads(row.payload))


class Recorder:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = AuditRepository(session)

    async def append(self, event: Event) -> int:
        """Add the event as the chain's next link; 0 if it is stored already."""
        return await self.append_many([event])

    async def append_many(self, events: Sequence[Event]) -> int:
        """Add the events, in order, as the chain's next links; those stored already (by
        event id) are skipped. One head lock and one insert per table for the lot: plain
        rows, not ORM objects, as this runs for every event of every service."""
        known = await self.repo.known_events([event.id for event in events])
        head = await self.repo.lock_head()
        board = await self.repo.board_rows(
            {e.entity_id for e in events if e.type in BOARD_EVENTS and e.entity_type == "device"}
        )
        rows: list[dict[str, Any]] = []
        refs: list[dict[str, Any]] = []
        for event in events:
            if event.id in known:
                continue
            known.add(event.id)
            payload = stored_payload(event)
            link = NewLink(
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
            )
            link.hash = link_hash(head.hash, link)
            rows.append(asdict(link))
            fact = Fact(link.type, link.entity_type, link.entity_id, payload)
            refs.extend(
                {"entity_type": t, "entity_id": i, "seq": link.seq} for t, i in subjects(fact)
            )
            head.seq, head.hash = link.seq, link.hash
            self._project(board, fact, link.seq)
        if rows:
            await self.repo.insert(rows, refs)
        await self.session.flush()
        return len(rows)

    def _project(self, board: dict[str, AuditDeviceBoard], fact: Fact, seq: int) -> None:
        if fact.type not in BOARD_EVENTS or fact.entity_type != "device":
            return
        existing = board.get(fact.entity_id)
        before = board_values(existing) if existing else None
        after = fold_board(before, fact, seq)
        if after is None:
            return
        if existing is None:
            board[fact.entity_id] = AuditDeviceBoard(**board_defaults(after))
            self.session.add(board[fact.entity_id])
        else:
            for key, value in after.items():
                setattr(existing, key, value)
