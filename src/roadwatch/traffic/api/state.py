"""Routes of the live traffic state: latest state, a segment's history, the congestion map
(GeoJSON), PeMS performance measures and the readings as NGSI-LD TrafficFlowObserved."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import select

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import InvalidInput, NotFound
from roadwatch.platform.runtime import PlatformDep, ReadSessionDep
from roadwatch.traffic.measures.los import colour
from roadwatch.traffic.models import Segment
from roadwatch.traffic.network.geometry import point_along
from roadwatch.traffic.ngsi import Entity
from roadwatch.traffic.ngsi.flow import entities_of_sample
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
    repo = StateRepository(session)
    rows = await repo.latest(interval.value)
    # a segment deleted from the network keeps its history but has no current state
    segments = (await repo.topology()).segments
    return [
        state_read(r)
        for r in rows
        if r.segment_id in segments
        and (road_id is None or segments[r.segment_id].road_id == road_id)
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


MAX_ENTITIES = 1000


@router.get(
    "/ngsi-ld/TrafficFlowObserved",
    operation_id="traffic_ngsi_traffic_flow_observed",
    response_class=JSONResponse,
)
async def traffic_flow_observed(
    session: ReadSessionDep,
    principal: CanRead,
    start_ts: From,
    end_ts: To,
    device_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTITIES, description="samples per page")] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    options: Annotated[
        Literal["keyValues", "normalized"] | None,
        Query(description="keyValues for plain values; normalized (the default) otherwise"),
    ] = None,
) -> JSONResponse:
    """NGSI-LD TrafficFlowObserved entities (normalized) of the detector readings stamped in
    (from, to], by time then device; a reading with lanes gives one entity per lane."""
    _check_range(start_ts, end_ts, MAX_RANGE_MS[60])
    repo = StateRepository(session)
    topology = await repo.topology()
    geometry = {
        s.id: s.geometry for s in await session.scalars(select(Segment).order_by(Segment.id))
    }
    entities: list[Entity] = []
    for sample in await repo.raw_samples(start_ts, end_ts, device_id, limit, offset):
        station = topology.stations.get(sample.device_id)
        segment_id = station.segment_id if station else None
        line = geometry.get(segment_id or "")
        location = point_along(line, station.offset_m) if station and line else None
        entities.extend(
            entities_of_sample(
                device_id=sample.device_id,
                segment_id=segment_id,
                end_ts=sample.end_ts,
                interval_s=sample.interval_s,
                count=sample.count,
                occupancy_pct=sample.occupancy_pct,
                speed_kmh=sample.speed_kmh,
                lanes=sample.lanes,
                location=location,
            )
        )
    key_values = options == "keyValues"
    return JSONResponse([e.render(key_values) for e in entities], media_type="application/ld+json")
