"""Every query of incident detection."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from roadwatch.traffic.detection.lifecycle import DetectionPhase
from roadwatch.traffic.detection.models import Detection, PairState
from roadwatch.traffic.models import Segment


class DetectionRepository:
    sortable: dict[str, InstrumentedAttribute[Any]] = {
        "onset_ts": Detection.onset_ts,
        "confirmed_ts": Detection.confirmed_ts,
        "cleared_ts": Detection.cleared_ts,
        "confidence": Detection.confidence,
        "created_at": Detection.created_at,
    }

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def query(
        self,
        phases: list[str] | None,
        segment_id: str | None,
        algorithms: list[str] | None,
        from_ts: int | None,
        to_ts: int | None,
    ) -> Select[Detection]:
        """Detections in any of `phases`, of any of `algorithms`, whose span (onset to
        clearing, or still open) overlaps [from_ts, to_ts)."""
        statement = select(Detection)
        if phases:
            statement = statement.where(Detection.phase.in_(phases))
        if segment_id:
            statement = statement.where(Detection.segment_id == segment_id)
        if algorithms:
            statement = statement.where(Detection.algorithm.in_(algorithms))
        if to_ts is not None:
            statement = statement.where(Detection.onset_ts < to_ts)
        if from_ts is not None:
            statement = statement.where(
                (Detection.cleared_ts.is_(None)) | (Detection.cleared_ts >= from_ts)
            )
        return statement

    async def lock_run(self) -> None:
        """Serialise incident detection between replicas until the transaction ends: two
        intervals judged at once would each step the pairs from the same stored state.
        One lock for all pairs is enough: there is one interval a minute. SQLite has one
        writer anyway."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended('traffic.aid', 7))")
            )

    async def first_confirmed(self, pair_id: str, other_than: str) -> Detection | None:
        """The earliest confirmed (still open) detection of a pair besides `other_than`."""
        rows = await self.session.scalars(
            select(Detection)
            .where(
                Detection.pair_id == pair_id,
                Detection.id != other_than,
                Detection.phase == DetectionPhase.CONFIRMED.value,
            )
            .order_by(Detection.confirmed_ts, Detection.id)
            .limit(1)
        )
        return rows.first()

    async def states(self, pair_ids: Iterable[str]) -> dict[tuple[str, str], PairState]:
        ids = list(set(pair_ids))
        if not ids:
            return {}
        found: dict[tuple[str, str], PairState] = {}
        # in chunks: a city has thousands of pairs, a bound-parameter list has limits
        for start in range(0, len(ids), 500):
            rows = await self.session.scalars(
                select(PairState).where(PairState.pair_id.in_(ids[start : start + 500]))
            )
            found.update({(r.pair_id, r.algorithm): r for r in rows})
        return found

    async def detections(self, ids: Iterable[str]) -> dict[str, Detection]:
        wanted = list(set(ids))
        found: dict[str, Detection] = {}
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(
                select(Detection).where(Detection.id.in_(wanted[start : start + 500]))
            )
            found.update({r.id: r for r in rows})
        return found

    async def geometries(
        self, segment_ids: Iterable[str]
    ) -> dict[str, tuple[list[list[float]], float]]:
        """Per segment: (geometry, length_m)."""
        wanted = list(set(segment_ids))
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(Segment.id, Segment.geometry, Segment.length_m).where(Segment.id.in_(wanted))
        )
        return {r.id: (list(r.geometry or []), float(r.length_m)) for r in rows}
