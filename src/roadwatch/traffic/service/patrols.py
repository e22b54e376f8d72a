"""Patrol units: create, change, delete, list; their status lifecycle (patrol_states.py);
positions and tracks from their GPS trackers' telemetry; the nearest units to a point."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.errors import Conflict, InvalidInput, NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate
from roadwatch.traffic import events
from roadwatch.traffic.metrics import PATROL_FIXES
from roadwatch.traffic.models import PatrolUnit, TrackPoint
from roadwatch.traffic.network.geometry import great_circle_m
from roadwatch.traffic.patrol_states import TRANSITIONS, allowed
from roadwatch.traffic.repository import PATROL_SORTABLE, PatrolRepository
from roadwatch.traffic.schemas import (
    NearestPatrol,
    PatrolCreate,
    PatrolRead,
    PatrolStatus,
    PatrolUpdate,
    Position,
)


def patrol_read(unit: PatrolUnit) -> PatrolRead:
    position = None
    if unit.lon is not None and unit.lat is not None and unit.position_ts is not None:
        position = Position(
            lon=unit.lon,
            lat=unit.lat,
            ts=unit.position_ts,
            speed_kmh=unit.speed_kmh,
            heading_deg=unit.heading_deg,
        )
    return PatrolRead(
        id=unit.id,
        call_sign=unit.call_sign,
        vehicle=unit.vehicle,
        officers=list(unit.officers),
        home_zone=unit.home_zone,
        status=PatrolStatus(unit.status),
        device_id=unit.device_id,
        position=position,
        created_at=unit.created_at,
        updated_at=unit.updated_at,
    )


class PatrolService:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.actor = actor
        self.repo = PatrolRepository(session)

    async def _publish(self, type: str, unit: PatrolUnit, **extra: Any) -> None:
        await self.session.flush()
        await self.session.refresh(unit)
        state = patrol_read(unit).model_dump(mode="json")
        publish(
            self.session,
            events.entity_event(type, "patrol_unit", unit.id, state, self.actor, **extra),
        )

    async def get(self, unit_id: str) -> PatrolUnit:
        unit = await self.session.get(PatrolUnit, unit_id)
        if unit is None:
            raise NotFound(f"patrol unit {unit_id} not found")
        return unit

    async def list_units(
        self, page: PageParams, status: str | None, home_zone: str | None
    ) -> tuple[list[PatrolUnit], int]:
        return await paginate(
            self.session,
            self.repo.units(status, home_zone),
            page,
            PATROL_SORTABLE,
            tiebreak=PatrolUnit.id,
            default_sort="call_sign",
        )

    async def _check_unique(
        self, unit_id: str | None, call_sign: str | None, device_id: str | None
    ) -> None:
        if call_sign is not None:
            other = await self.repo.by_call_sign(call_sign)
            if other is not None and other.id != unit_id:
                raise Conflict(f"call sign {call_sign} is taken by unit {other.id}")
        if device_id is not None:
            other = await self.repo.by_device(device_id)
            if other is not None and other.id != unit_id:
                raise Conflict(f"tracker {device_id} is linked to unit {other.call_sign}")

    async def create(self, data: PatrolCreate) -> PatrolUnit:
        await self._check_unique(None, data.call_sign, data.device_id)
        unit = PatrolUnit(
            call_sign=data.call_sign,
            vehicle=data.vehicle,
            officers=list(data.officers),
            home_zone=data.home_zone,
            status=data.status.value,
            device_id=data.device_id,
        )
        self.session.add(unit)
        await self._publish(events.PATROL_CREATED, unit)
        return unit

    async def update(self, unit_id: str, data: PatrolUpdate) -> PatrolUnit:
        unit = await self.get(unit_id)
        changes = data.model_dump(exclude_unset=True)
        await self._check_unique(unit.id, data.call_sign, data.device_id)
        for name in ("call_sign", "vehicle", "home_zone"):
            if changes.get(name) is not None:
                setattr(unit, name, changes[name])
        if data.officers is not None:
            unit.officers = list(data.officers)
        if "device_id" in changes and changes["device_id"] != unit.device_id:
            unit.device_id = changes["device_id"]
            # a new tracker's fixes start a new position; the old one's no longer apply
            unit.lon = unit.lat = unit.speed_kmh = unit.heading_deg = None
            unit.position_ts = None
        await self._publish(events.PATROL_UPDATED, unit)
        return unit

    async def change_status(self, unit_id: str, target: PatrolStatus) -> PatrolUnit:
        unit = await self.get(unit_id)
        current = PatrolStatus(unit.status)
        if current == target:
            return unit
        if not allowed(current, target):
            raise Conflict(
                f"a unit {current.value} cannot become {target.value}; from {current.value}: "
                + ", ".join(sorted(s.value for s in TRANSITIONS[current])),
                current_status=current.value,
                allowed=sorted(s.value for s in TRANSITIONS[current]),
            )
        unit.status = target.value
        await self._publish(events.PATROL_STATUS_CHANGED, unit, previous=current.value)
        return unit

    async def delete(self, unit_id: str) -> None:
        unit = await self.get(unit_id)
        await self._publish(events.PATROL_DELETED, unit)
        await self.repo.drop_track(unit.id)
        await self.session.delete(unit)

    async def track(
        self, unit_id: str, start_ts: int | None, end_ts: int | None, limit: int
    ) -> list[TrackPoint]:
        unit = await self.get(unit_id)
        if start_ts is not None and end_ts is not None and end_ts <= start_ts:
            raise InvalidInput(
                "endTs must be after startTs",
                errors=[{"field": "endTs", "message": "must be after startTs"}],
            )
        return await self.repo.track(unit.id, start_ts, end_ts, limit)

    async def nearest(
        self, lon: float, lat: float, limit: int, status: str | None
    ) -> list[NearestPatrol]:
        units = await self.repo.with_position(status)
        ranked = sorted(
            (great_circle_m(lon, lat, u.lon or 0.0, u.lat or 0.0), u.call_sign, u) for u in units
        )
        return [
            NearestPatrol(unit=patrol_read(u), distance_m=round(d, 1)) for d, _, u in ranked[:limit]
        ]

    # --- from the trackers and the registry ---------------------------------------------

    async def on_tracker_points(self, device_id: str, points: list[list[Any]]) -> None:
        """Fold a tracker's telemetry batch into its unit's track and last position."""
        unit = await self.repo.by_device(device_id)
        if unit is None:
            return
        fixes: dict[int, dict[str, float]] = defaultdict(dict)
        for key, ts, value in points:
            if (
                key in ("latitude", "longitude", "speed", "heading")
                and isinstance(value, int | float)
                and not isinstance(value, bool)
            ):
                fixes[int(ts)][key] = float(value)
        track = [
            TrackPoint(
                unit_id=unit.id,
                ts=ts,
                lon=fix["longitude"],
                lat=fix["latitude"],
                speed_kmh=fix.get("speed"),
                heading_deg=fix.get("heading"),
            )
            for ts, fix in sorted(fixes.items())
            if "latitude" in fix
            and "longitude" in fix
            and -90 <= fix["latitude"] <= 90
            and -180 <= fix["longitude"] <= 180
        ]
        if not track:
            return
        await self.repo.add_track(
            [
                {
                    "unit_id": p.unit_id,
                    "ts": p.ts,
                    "lon": p.lon,
                    "lat": p.lat,
                    "speed_kmh": p.speed_kmh,
                    "heading_deg": p.heading_deg,
                }
                for p in track
            ]
        )
        newest = track[-1]
        # a late batch adds to the track but does not move the unit back in time
        if unit.position_ts is None or newest.ts > unit.position_ts:
            unit.lon, unit.lat = newest.lon, newest.lat
            unit.position_ts = newest.ts
            unit.speed_kmh, unit.heading_deg = newest.speed_kmh, newest.heading_deg
        PATROL_FIXES.inc(len(track))
        await self.repo.prune_track(unit.id)
        await self.session.flush()

    async def on_tracker_device(self, device_id: str, state: dict[str, Any]) -> None:
        """A `patrol_gps` device whose `extra` names a `unit` gets that unit (created when no
        unit has that call sign, linked when the unit has no tracker yet)."""
        extra = state.get("extra") or {}
        call_sign = str(extra.get("unit") or "") if isinstance(extra, dict) else ""
        if not call_sign or await self.repo.by_device(device_id) is not None:
            return
        unit = await self.repo.by_call_sign(call_sign)
        if unit is None:
            unit = PatrolUnit(
                call_sign=call_sign[:32],
                vehicle=str(state.get("label") or "")[:120],
                officers=[],
                home_zone="",
                # a tracker reporting is a car out on patrol: ready to be sent
                status=PatrolStatus.AVAILABLE.value,
                device_id=device_id,
            )
            self.session.add(unit)
            await self._publish(events.PATROL_CREATED, unit)
        elif unit.device_id is None:
            unit.device_id = device_id
            await self._publish(events.PATROL_UPDATED, unit)

    async def on_tracker_deleted(self, device_id: str) -> None:
        unit = await self.repo.by_device(device_id)
        if unit is not None:
            unit.device_id = None
            await self._publish(events.PATROL_UPDATED, unit)
