"""NGSI-LD TrafficFlowObserved (FIWARE Smart Data Models, Transportation): one entity per
detector, lane and reporting interval, from the stored station samples.

Unit conversions the model needs: `intensity` is the number of vehicles in the interval (not
a rate), `occupancy` a fraction 0..1 (we keep percent), `averageVehicleSpeed` km/h; the
interval is `dateObservedFrom`/`dateObservedTo` (and `dateObserved` as an ISO 8601 interval).
A station that reports per lane gives one entity per lane (`laneId`, 1 = nearside); one that
reports only its totals gives one entity without `laneId`.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from typing import Any

CONTEXT = [
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld",
]


def _iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(ts_ms: int) -> dict[str, Any]:
    return {"type": "Property", "value": {"@type": "DateTime", "@value": _iso(ts_ms)}}


def point_along(geometry: list[list[float]], offset_m: float) -> list[float] | None:
    """The [lon, lat] `offset_m` along a LineString (equirectangular distances: segments are
    short enough for the error to stay far below a loop's length)."""
    if not geometry:
        return None
    remaining = max(offset_m, 0.0)
    for (lon1, lat1), (lon2, lat2) in itertools.pairwise(geometry):
        dx = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2)) * 6_371_000
        dy = math.radians(lat2 - lat1) * 6_371_000
        length = math.hypot(dx, dy)
        if length > 0 and remaining <= length:
            f = remaining / length
            return [lon1 + f * (lon2 - lon1), lat1 + f * (lat2 - lat1)]
        remaining -= length
    return list(geometry[-1])


def traffic_flow_observed(
    *,
    device_id: str,
    segment_id: str | None,
    end_ts: int,
    interval_s: int,
    count: float | None,
    occupancy_pct: float | None,
    speed_kmh: float | None,
    lane: int | None,
    location: list[float] | None,
) -> dict[str, Any]:
    start_ts = end_ts - interval_s * 1000
    lane_part = str(lane) if lane is not None else "all"
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:TrafficFlowObserved:{device_id}:{lane_part}:{end_ts}",
        "type": "TrafficFlowObserved",
        "dateObserved": {"type": "Property", "value": f"{_iso(start_ts)}/{_iso(end_ts)}"},
        "dateObservedFrom": _date(start_ts),
        "dateObservedTo": _date(end_ts),
        "refDevice": {"type": "Relationship", "object": f"urn:ngsi-ld:Device:{device_id}"},
    }
    if segment_id is not None:
        entity["refRoadSegment"] = {
            "type": "Relationship",
            "object": f"urn:ngsi-ld:RoadSegment:{segment_id}",
        }
    if location is not None:
        entity["location"] = {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": location},
        }
    if lane is not None:
        entity["laneId"] = {"type": "Property", "value": lane}
    if count is not None:
        entity["intensity"] = {"type": "Property", "value": round(count)}
    if occupancy_pct is not None:
        entity["occupancy"] = {"type": "Property", "value": round(occupancy_pct / 100.0, 6)}
    if speed_kmh is not None:
        entity["averageVehicleSpeed"] = {"type": "Property", "value": speed_kmh, "unitCode": "KMH"}
    entity["@context"] = CONTEXT
    return entity


def entities_of_sample(
    *,
    device_id: str,
    segment_id: str | None,
    end_ts: int,
    interval_s: int,
    count: float | None,
    occupancy_pct: float | None,
    speed_kmh: float | None,
    lanes: dict[str, dict[str, float]] | None,
    location: list[float] | None,
) -> list[dict[str, Any]]:
    """One sample's entities: per lane when it has lanes, else one for the station."""

    def entity(
        count: float | None, occupancy: float | None, speed: float | None, lane: int | None
    ) -> dict[str, Any]:
        return traffic_flow_observed(
            device_id=device_id,
            segment_id=segment_id,
            end_ts=end_ts,
            interval_s=interval_s,
            count=count,
            occupancy_pct=occupancy,
            speed_kmh=speed,
            lane=lane,
            location=location,
        )

    if lanes:
        return [
            entity(
                values.get("count"), values.get("occupancy_pct"), values.get("speed_kmh"), int(lane)
            )
            for lane, values in sorted(lanes.items(), key=lambda item: int(item[0]))
        ]
    return [entity(count, occupancy_pct, speed_kmh, None)]
