"""Every query of the live traffic state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.traffic.measures.health import Sample
from roadwatch.traffic.models import Detector, Segment
from roadwatch.traffic.state.models import (
    DirtyInterval,
    IntervalCursor,
    SegmentLatest,
    SegmentState,
    StationModel,
    StationSample,
)
from roadwatch.traffic.state.topology import SegmentInfo, StationInfo, Topology


def _insert(session: AsyncSession, table: Any) -> Any:
    bind = session.get_bind()
    return pg_insert(table) if bind.dialect.name == "postgresql" else sqlite_insert(table)


def upsert(
    session: AsyncSession, table: Any, keys: Sequence[str], rows: list[dict[str, Any]]
) -> Any:
    """An INSERT .. ON CONFLICT (keys) DO UPDATE of every other column, for either dialect."""
    statement = _insert(session, table)
    columns = [c for c in rows[0] if c not in keys]
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={c: getattr(statement.excluded, c) for c in columns}
    )


class StateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def detector(self, device_id: str) -> Detector | None:
        return await self.session.get(Detector, device_id)

    async def topology(self) -> Topology:
        segments = {
            s.id: SegmentInfo(
                id=s.id,
                road_id=s.road_id,
                road_class=s.road_class,
                lanes=s.lanes,
                length_m=s.length_m,
                free_flow_kmh=s.free_flow_kmh,
                capacity_vphpl=s.capacity_vphpl,
                upstream=tuple(s.upstream or ()),
                downstream=tuple(s.downstream or ()),
            )
            for s in await self.session.scalars(select(Segment))
        }
        stations = {
            d.device_id: StationInfo(
                device_id=d.device_id,
                segment_id=d.segment_id,
                offset_m=d.offset_m,
                lanes=max(d.lanes or 1, 1),
                kind=d.kind,
            )
            for d in await self.session.scalars(select(Detector))
            if d.segment_id in segments
        }
        return Topology(segments, stations)

    # samples

    async def samples_at(self, device_id: str, end_ts: Sequence[int]) -> dict[int, StationSample]:
        rows = await self.session.scalars(
            select(StationSample).where(
                StationSample.device_id == device_id, StationSample.end_ts.in_(list(end_ts))
            )
        )
        return {r.end_ts: r for r in rows}

    async def write_samples(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(
                upsert(self.session, StationSample, ("device_id", "end_ts"), rows), rows
            )

    async def samples_between(
        self,
        start_ts: int,
        end_ts: int,
        lanes: dict[str, int],
        device_ids: Sequence[str] | None = None,
    ) -> dict[str, list[Sample]]:
        """Samples stamped in (start, end], per device, oldest first."""
        # columns, not entities: samples upserted in this transaction must be read as stored,
        # not as the identity map remembers them
        query = select(
            StationSample.device_id,
            StationSample.end_ts,
            StationSample.count,
            StationSample.occupancy_pct,
            StationSample.speed_kmh,
            StationSample.interval_s,
        ).where(StationSample.end_ts > start_ts, StationSample.end_ts <= end_ts)
        if device_ids is not None:
            query = query.where(StationSample.device_id.in_(list(device_ids)))
        found: dict[str, list[Sample]] = {}
        result = await self.session.execute(query.order_by(StationSample.end_ts))
        for device_id, ts, count, occupancy, speed, interval_s in result:
            found.setdefault(device_id, []).append(
                Sample(
                    ts=ts,
                    count=count,
                    occupancy_pct=occupancy,
                    speed_kmh=speed,
                    interval_s=interval_s,
                    lanes=lanes.get(device_id, 1),
                )
            )
        return found

    async def raw_samples(
        self, start_ts: int, end_ts: int, device_id: str | None, limit: int, offset: int
    ) -> list[StationSample]:
        query = select(StationSample).where(
            StationSample.end_ts > start_ts, StationSample.end_ts <= end_ts
        )
        if device_id is not None:
            query = query.where(StationSample.device_id == device_id)
        query = (
            query.order_by(StationSample.end_ts, StationSample.device_id)
            .limit(limit)
            .offset(offset)
        )
        return list(await self.session.scalars(query))

    # learnt per station

    async def models(self) -> dict[str, StationModel]:
        return {m.device_id: m for m in await self.session.scalars(select(StationModel))}

    # cursor

    async def cursor(self, interval_s: int) -> IntervalCursor | None:
        return await self.session.get(IntervalCursor, interval_s)

    # segment state

    async def write_states(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        await self.session.execute(
            upsert(self.session, SegmentState, ("segment_id", "interval_s", "end_ts"), rows), rows
        )

    async def write_latest(self, rows: list[dict[str, Any]]) -> None:
        """Replace the latest state of these segments unless a newer interval is stored."""
        if not rows:
            return
        existing = {
            (r.segment_id, r.interval_s): r.end_ts
            for r in await self.session.scalars(
                select(SegmentLatest).where(
                    SegmentLatest.segment_id.in_([r["segment_id"] for r in rows])
                )
            )
        }
        newer = [
            r for r in rows if existing.get((r["segment_id"], r["interval_s"]), -1) <= r["end_ts"]
        ]
        if newer:
            await self.session.execute(
                upsert(self.session, SegmentLatest, ("segment_id", "interval_s"), newer), newer
            )

    async def latest(self, interval_s: int) -> list[SegmentLatest]:
        return list(
            await self.session.scalars(
                select(SegmentLatest)
                .where(SegmentLatest.interval_s == interval_s)
                .order_by(SegmentLatest.segment_id)
            )
        )

    async def history(
        self, segment_ids: Sequence[str] | None, interval_s: int, start_ts: int, end_ts: int
    ) -> list[SegmentState]:
        """States of intervals ending in (start, end], by segment then time."""
        query = select(SegmentState).where(
            SegmentState.interval_s == interval_s,
            SegmentState.end_ts > start_ts,
            SegmentState.end_ts <= end_ts,
        )
        if segment_ids is not None:
            query = query.where(SegmentState.segment_id.in_(list(segment_ids)))
        return list(
            await self.session.scalars(query.order_by(SegmentState.segment_id, SegmentState.end_ts))
        )

    # closed intervals to compute again

    async def mark_dirty(self, interval_s: int, ends: Sequence[int]) -> None:
        if not ends:
            return
        rows = [{"interval_s": interval_s, "end_ts": e} for e in sorted(set(ends))]
        statement = _insert(self.session, DirtyInterval).on_conflict_do_nothing(
            index_elements=["interval_s", "end_ts"]
        )
        await self.session.execute(statement, rows)

    async def dirty(self, interval_s: int, limit: int) -> list[int]:
        rows = await self.session.scalars(
            select(DirtyInterval.end_ts)
            .where(DirtyInterval.interval_s == interval_s)
            .order_by(DirtyInterval.end_ts)
            .limit(limit)
        )
        return list(rows)

    async def clear_dirty(self, interval_s: int, ends: Sequence[int]) -> None:
        if ends:
            await self.session.execute(
                delete(DirtyInterval).where(
                    DirtyInterval.interval_s == interval_s, DirtyInterval.end_ts.in_(list(ends))
                )
            )

    async def oldest_sample_ts(self, device_ids: Sequence[str]) -> int | None:
        oldest: int | None = await self.session.scalar(
            select(func.min(StationSample.end_ts)).where(
                StationSample.device_id.in_(list(device_ids))
            )
        )
        return oldest
