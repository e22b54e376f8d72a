"""Routes of the live traffic state: latest state, a segment's history, the congestion map
(GeoJSON) and PeMS performance measures."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import InvalidInput, NotFound
from roadwatch.platform.runtime import PlatformDep, ReadSessionDep
from roadwatch.traffic.measures.los import colour
from roadwatch.traffic.models import Segment
from roadwatch.traffic.state import reports
from roadwatch.traffic.state.models import SegmentLatest, SegmentState
from roadwatch.traffic.state.repository import StateRepository
from roadwatch.traffic.state.schemas import (
    IntervalLength,
    Level,
    PerformanceRead,
    Period,
    SegmentStateRead,
)

router = APIRouter(prefix="/api/v1/traffic", tags=["traffic state"])

CanRead = Annotated[Principal, authorize("traffic:read")]
MAX_TS = 2**42
DAY_MS = 86_400_000
# the longest range one request may ask for, per interval length
MAX_RANGE_MS = {60: 7 * DAY_MS, 300: 31 * DAY_MS}
MAX_PERFORMANCE_RANGE_MS = 92 * DAY_MS

From = Annotated[int, Query(alias="from", ge=0, le=MAX_TS, description="ms, excluded")]
To = Annotated[int, Query(alias="to", ge=0, le=MAX_TS, description="ms, included")]
Interval = Annotated[IntervalLength, Query(description="interval length in seconds: 60 or 300")]


def _check_range(start_ts: int, end_ts: int, longest_ms: int) -> None:
    if end_ts <= start_ts:
        raise InvalidInput("to: must be after from", field="to")
    if end_ts - start_ts > longest_ms:
        raise InvalidInput(
            f"to: at most {longest_ms // DAY_MS} days per request for this interval",
            field="to",
        )


def state_read(row: SegmentState | SegmentLatest) -> SegmentStateRead:
    return SegmentStateRead.model_validate(
        {
            "segment_id": row.segment_id,
            "interval_s": row.interval_s,
            "start_ts": row.start_ts,
            "end_ts": row.end_ts,
            "flow_vph": row.flow_vph,
            "speed_kmh": row.speed_kmh,
            "speed_estimated": row.speed_estimated,
            "occupancy_pct": row.occupancy_pct,
            "density_vpkm": row.density_vpkm,
            "los": row.los,
            "congested": row.congested,
            "travel_time_s": row.travel_time_s,
            "tti": row.tti,
            "imputed": row.imputed,
            "stations": row.stations,
        }
    )


@router.get("/state", operation_id="traffic_state_list", response_model=list[SegmentStateRead])
async def list_state(
    session: ReadSessionDep,
    principal: CanRead,
    interval: Interval = IntervalLength.MINUTE,
    road_id: Annotated[str | None, Query(max_length=64)] = None,
    segment_id: Annotated[list[str] | None, Query(max_length=64)] = None,
    congested: bool | None = None,
    los: Annotated[str | None, Query(pattern="^[A-F]$", description="only this LOS")] = None,
) -> list[SegmentStateRead]:
    """Each segment's newest closed interval, by segment id."""
    rows = await StateRepository(session).latest(interval.value)
    road_segments: set[str] | None = None
    if road_id is not None:
        topology = await StateRepository(session).topology()
        road_segments = {s.id for s in topology.segments.values() if s.road_id == road_id}
    return [
        state_read(r)
        for r in rows
        if (road_segments is None or r.segment_id in road_segments)
        and (not segment_id or r.segment_id in segment_id)
        and (congested is None or r.congested == congested)
        and (los is None or r.los == los)
    ]


@router.get(
    "/segments/{segment_id}/state",
    operation_id="traffic_segment_state_history",
    response_model=list[SegmentStateRead],
)
async def segment_history(
    segment_id: str,
    session: ReadSessionDep,
    principal: CanRead,
    start_ts: From,
    end_ts: To,
    interval: Interval = IntervalLength.MINUTE,
) -> list[SegmentStateRead]:
    """The segment's intervals ending in (from, to], oldest first."""
    if await session.get(Segment, segment_id) is None:
        raise NotFound(f"segment {segment_id} not found")
    _check_range(start_ts, end_ts, MAX_RANGE_MS[interval.value])
    rows = await StateRepository(session).history([segment_id], interval.value, start_ts, end_ts)
    return [state_read(r) for r in rows]


@router.get("/congestion.geojson", operation_id="traffic_congestion_map")
async def congestion_map(
    session: ReadSessionDep,
    principal: CanRead,
    interval: Interval = IntervalLength.MINUTE,
) -> dict[str, Any]:
    """Every segment as a GeoJSON LineString with its newest state and LOS colour (grey where
    there is no state)."""
    repo = StateRepository(session)
    latest = {r.segment_id: r for r in await repo.latest(interval.value)}
    segments = await session.scalars(select(Segment).order_by(Segment.id))
    features = []
    for s in segments:
        state = latest.get(s.id)
        features.append(
            {
                "type": "Feature",
                "id": s.id,
                "geometry": {"type": "LineString", "coordinates": s.geometry},
                "properties": {
                    "segment_id": s.id,
                    "road_id": s.road_id,
                    "name": s.name,
                    "road_class": s.road_class,
                    "status": s.status,
                    "los": state.los if state else None,
                    "colour": colour(state.los if state else None),
                    "congested": state.congested if state else False,
                    "speed_kmh": state.speed_kmh if state else None,
                    "flow_vph": state.flow_vph if state else None,
                    "tti": state.tti if state else None,
                    "imputed": state.imputed if state else False,
                    "updated_ts": state.end_ts if state else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@router.get(
    "/performance", operation_id="traffic_performance", response_model=list[PerformanceRead]
)
async def performance(
    session: ReadSessionDep,
    platform: PlatformDep,
    principal: CanRead,
    start_ts: From,
    end_ts: To,
    level: Level = Level.CITY,
    period: Period = Period.HOUR,
) -> list[PerformanceRead]:
    """VMT, VHT, delay and lost productivity (PeMS) from the 5-minute state of intervals
    ending in (from, to], summed per segment, road or the city and per hour or local day."""
    _check_range(start_ts, end_ts, MAX_PERFORMANCE_RANGE_MS)
    return await reports.performance(
        session, platform.settings.traffic, level, period, start_ts, end_ts
    )
