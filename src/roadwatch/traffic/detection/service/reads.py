"""A detection as the API and its events show it."""

from __future__ import annotations

from typing import Any

from roadwatch.traffic.detection.models import Detection
from roadwatch.traffic.detection.schemas import DetectionRead, Location


def to_read(detection: Detection) -> DetectionRead:
    location = (
        Location(lon=detection.lon, lat=detection.lat)
        if detection.lon is not None and detection.lat is not None
        else None
    )
    return DetectionRead.model_validate(
        {
            "id": detection.id,
            "algorithm": detection.algorithm,
            "pair_id": detection.pair_id,
            "upstream_device_id": detection.upstream_device_id,
            "downstream_device_id": detection.downstream_device_id,
            "segment_id": detection.segment_id,
            "offset_m": detection.offset_m,
            "location": location,
            "road_class": detection.road_class,
            "lanes": detection.lanes,
            "phase": detection.phase,
            "onset_ts": detection.onset_ts,
            "confirmed_ts": detection.confirmed_ts,
            "cleared_ts": detection.cleared_ts,
            "confidence": detection.confidence,
            "evidence": detection.evidence,
            "dismissed_by": detection.dismissed_by,
            "dismissed_reason": detection.dismissed_reason,
            "created_at": detection.created_at,
            "updated_at": detection.updated_at,
        }
    )


def state_of(detection: Detection) -> dict[str, Any]:
    return to_read(detection).model_dump(mode="json")
