"""What the detections API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from roadwatch.traffic.detection.lifecycle import DetectionPhase


class Location(BaseModel):
    lon: float
    lat: float


class DetectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    algorithm: str
    pair_id: str
    upstream_device_id: str
    downstream_device_id: str
    segment_id: str
    offset_m: float
    location: Location | None
    road_class: str
    lanes: list[int] | None
    phase: DetectionPhase
    onset_ts: int
    confirmed_ts: int | None
    cleared_ts: int | None
    confidence: float
    evidence: dict[str, Any]
    dismissed_by: str | None
    dismissed_reason: str | None
    created_at: datetime
    updated_at: datetime


class DismissBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class ThresholdsRead(BaseModel):
    # road class -> threshold name -> value, the operator's overrides applied
    by_class: dict[str, dict[str, float]]
    # the class used for a road class not listed
    default_class: str
    # the algorithms each pair runs, in order
    algorithms: list[str]
    # the state interval they run on
    interval_s: int
