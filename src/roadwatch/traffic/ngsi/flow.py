"""TrafficFlowObserved (Smart Data Models, Transportation): one entity per detector, lane and
reporting interval, from the stored station samples.

Unit conversions the model needs: `intensity` is the number of vehicles in the interval (not
a rate), `occupancy` a fraction 0..1 (we keep percent), `averageVehicleSpeed` km/h; the
interval is `dateObservedFrom`/`dateObservedTo` (and `dateObserved` as an ISO 8601 interval).
A station that reports per lane gives one entity per lane (`laneId`, 1 = nearside); one that
reports only its totals gives one entity without `laneId`.
"""

from __future__ import annotations

from roadwatch.traffic.ngsi import Entity, iso, urn

RELATIONSHIPS = frozenset({"refRoadSegment", "refDevice"})


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
    location: tuple[float, float] | None,
) -> Entity:
    start_ts = end_ts - interval_s * 1000
    lane_part = str(lane) if lane is not None else "all"
    return Entity(
        id=urn("TrafficFlowObserved", f"{device_id}:{lane_part}:{end_ts}"),
        type="TrafficFlowObserved",
        attributes={
            "dateObserved": f"{iso(start_ts)}/{iso(end_ts)}",
            "dateObservedFrom": iso(start_ts),
            "dateObservedTo": iso(end_ts),
            "refDevice": urn("Device", device_id),
            "refRoadSegment": urn("RoadSegment", segment_id) if segment_id else None,
            "location": {"type": "Point", "coordinates": list(location)} if location else None,
            "laneId": lane,
            "laneDirection": "forward",
            "intensity": round(count) if count is not None else None,
            "occupancy": round(occupancy_pct / 100.0, 6) if occupancy_pct is not None else None,
            "averageVehicleSpeed": speed_kmh,
        },
        relationships=RELATIONSHIPS,
    )


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
    location: tuple[float, float] | None,
) -> list[Entity]:
    """One sample's entities: per lane when it has lanes, else one for the station."""

    def entity(
        count: float | None, occupancy: float | None, speed: float | None, lane: int | None
    ) -> Entity:
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
