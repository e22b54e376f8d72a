"""Every query of the traffic network and patrol tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from roadwatch.traffic.models import (
    Camera,
    Detector,
    KnownDevice,
    PatrolUnit,
    PendingPlacement,
    Road,
    Segment,
    TrackPoint,
)

ROAD_SORTABLE: dict[str, InstrumentedAttribute[Any]] = {
    "id": Road.id,
    "name": Road.name,
    "road_class": Road.road_class,
    "created_at": Road.created_at,
}
SEGMENT_SORTABLE: dict[str, InstrumentedAttribute[Any]] = {
    "id": Segment.id,
    "road_id": Segment.road_id,
    "name": Segment.name,
    "road_class": Segment.road_class,
    "status": Segment.status,
    "length_m": Segment.length_m,
    "created_at": Segment.created_at,
}
DETECTOR_SORTABLE: dict[str, InstrumentedAttribute[Any]] = {
    "device_id": Detector.device_id,
    "name": Detector.name,
    "segment_id": Detector.segment_id,
    "offset_m": Detector.offset_m,
    "kind": Detector.kind,
}
CAMERA_SORTABLE: dict[str, InstrumentedAttribute[Any]] = {
    "device_id": Camera.device_id,
    "name": Camera.name,
    "segment_id": Camera.segment_id,
}
PATROL_SORTABLE: dict[str, InstrumentedAttribute[Any]] = {
    "call_sign": PatrolUnit.call_sign,
    "status": PatrolUnit.status,
    "home_zone": PatrolUnit.home_zone,
    "created_at": PatrolUnit.created_at,
}


class NetworkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def roads(self, road_class: str | None) -> Select[Any]:
        statement = select(Road)
        if road_class:
            statement = statement.where(Road.road_class == road_class)
        return statement

    def segments(
        self, road_id: str | None, road_class: str | None, status: str | None
    ) -> Select[Any]:
        statement = select(Segment)
        if road_id:
            statement = statement.where(Segment.road_id == road_id)
        if road_class:
            statement = statement.where(Segment.road_class == road_class)
        if status:
            statement = statement.where(Segment.status == status)
        return statement

    async def all_segments(self) -> list[Segment]:
        return list((await self.session.scalars(select(Segment).order_by(Segment.id))).all())

    async def all_roads(self) -> list[Road]:
        return list((await self.session.scalars(select(Road).order_by(Road.id))).all())

    async def segments_by_id(self, ids: Sequence[str]) -> dict[str, Segment]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Segment).where(Segment.id.in_(list(ids))))
        return {s.id: s for s in rows.all()}

    async def segment_ids_of_road(self, road_id: str) -> list[str]:
        rows = await self.session.scalars(
            select(Segment.id).where(Segment.road_id == road_id).order_by(Segment.id)
        )
        return list(rows.all())

    def detectors(self, segment_id: str | None) -> Select[Any]:
        statement = select(Detector)
        if segment_id:
            statement = statement.where(Detector.segment_id == segment_id)
        return statement

    async def detectors_on(self, segment_id: str) -> list[Detector]:
        rows = await self.session.scalars(
            select(Detector).where(Detector.segment_id == segment_id).order_by(Detector.offset_m)
        )
        return list(rows.all())

    async def all_detectors(self) -> list[Detector]:
        rows = await self.session.scalars(select(Detector).order_by(Detector.device_id))
        return list(rows.all())

    def cameras(self, segment_id: str | None) -> Select[Any]:
        statement = select(Camera)
        if segment_id:
            statement = statement.where(Camera.segment_id == segment_id)
        return statement

    async def cameras_on(self, segment_id: str) -> list[Camera]:
        rows = await self.session.scalars(select(Camera).where(Camera.segment_id == segment_id))
        return list(rows.all())

    async def camera(self, device_id: str) -> Camera | None:
        return await self.session.get(Camera, device_id)

    async def all_cameras(self) -> list[Camera]:
        rows = await self.session.scalars(select(Camera).order_by(Camera.device_id))
        return list(rows.all())

    async def device_named(self, name: str) -> KnownDevice | None:
        rows = await self.session.scalars(
            select(KnownDevice).where(KnownDevice.name == name).order_by(KnownDevice.id).limit(1)
        )
        return rows.first()

    async def pending(self, device_name: str | None = None) -> list[PendingPlacement]:
        statement = select(PendingPlacement).order_by(PendingPlacement.device_name)
        if device_name is not None:
            statement = statement.where(PendingPlacement.device_name == device_name)
        rows = await self.session.scalars(statement)
        return list(rows.all())


class PatrolRepository:
    # the GPS fixes kept per unit: at one fix every 10 s, about the last 5.5 hours
    TRACK_LIMIT = 2000

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def units(self, status: str | None, home_zone: str | None) -> Select[Any]:
        statement = select(PatrolUnit)
        if status:
            statement = statement.where(PatrolUnit.status == status)
        if home_zone:
            statement = statement.where(PatrolUnit.home_zone == home_zone)
        return statement

    async def by_call_sign(self, call_sign: str) -> PatrolUnit | None:
        rows = await self.session.scalars(
            select(PatrolUnit).where(PatrolUnit.call_sign == call_sign)
        )
        return rows.first()

    async def by_device(self, device_id: str) -> PatrolUnit | None:
        rows = await self.session.scalars(
            select(PatrolUnit).where(PatrolUnit.device_id == device_id)
        )
        return rows.first()

    async def with_position(self, status: str | None) -> list[PatrolUnit]:
        statement = select(PatrolUnit).where(PatrolUnit.lon.is_not(None))
        if status:
            statement = statement.where(PatrolUnit.status == status)
        return list((await self.session.scalars(statement)).all())

    async def all_units(self) -> list[PatrolUnit]:
        rows = await self.session.scalars(select(PatrolUnit).order_by(PatrolUnit.call_sign))
        return list(rows.all())

    async def add_track(self, rows: list[dict[str, Any]]) -> None:
        """Store fixes; a fix sent again (same unit and time) is kept as first stored."""
        if not rows:
            return
        is_pg = self.session.get_bind().dialect.name == "postgresql"
        insert = pg_insert if is_pg else sqlite_insert
        statement = insert(TrackPoint).on_conflict_do_nothing(index_elements=["unit_id", "ts"])
        await self.session.execute(statement, rows)

    async def prune_track(self, unit_id: str) -> None:
        cutoff = await self.session.scalar(
            select(TrackPoint.ts)
            .where(TrackPoint.unit_id == unit_id)
            .order_by(TrackPoint.ts.desc())
            .offset(self.TRACK_LIMIT)
            .limit(1)
        )
        if cutoff is not None:
            await self.session.execute(
                delete(TrackPoint).where(TrackPoint.unit_id == unit_id, TrackPoint.ts <= cutoff)
            )

    async def track(
        self, unit_id: str, start_ts: int | None, end_ts: int | None, limit: int
    ) -> list[TrackPoint]:
        statement = select(TrackPoint).where(TrackPoint.unit_id == unit_id)
        if start_ts is not None:
            statement = statement.where(TrackPoint.ts >= start_ts)
        if end_ts is not None:
            statement = statement.where(TrackPoint.ts < end_ts)
        rows = await self.session.scalars(statement.order_by(TrackPoint.ts.desc()).limit(limit))
        return sorted(rows.all(), key=lambda p: p.ts)

    async def drop_track(self, unit_id: str) -> None:
        await self.session.execute(delete(TrackPoint).where(TrackPoint.unit_id == unit_id))
