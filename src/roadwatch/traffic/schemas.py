"""Request and response models of the traffic network and patrol API (ordinary pydantic:
not the hot path)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# external ids (segment "N1-C", SUMO edge "-E1#0"): anything but a slash or white space,
# so they fit in a URL path
ExternalId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^/\s]+$")]
RoadClass = Annotated[
    str,
    Field(
        min_length=1,
        max_length=32,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="motorway, trunk, primary, arterial, ring, collector, local, ...",
    ),
]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Coordinate = Annotated[list[float], Field(min_length=2, max_length=3)]


class SegmentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    LIMITED = "limited"


class RoadCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: ExternalId
    name: str = Field(min_length=1, max_length=200)
    road_class: RoadClass


class RoadUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    road_class: RoadClass | None = None


class RoadRead(BaseModel):
    id: str
    name: str
    road_class: str
    created_at: datetime
    updated_at: datetime


class SegmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: ExternalId
    road_id: ExternalId
    name: str = Field("", max_length=200, description="the road's name when empty")
    direction: str = Field("", max_length=64)
    from_node: ExternalId
    to_node: ExternalId
    geometry: list[Coordinate] = Field(
        min_length=2, description="[[lon, lat], ...] from the upstream to the downstream end"
    )
    length_m: float | None = Field(
        None, gt=0, le=100_000, description="measured along the geometry when absent"
    )
    lanes: int = Field(ge=1, le=16)
    speed_limit_kmh: float = Field(gt=0, le=200)
    free_flow_kmh: float | None = Field(None, gt=0, le=200, description="the limit when absent")
    capacity_vphpl: float | None = Field(None, gt=0, le=4000)
    road_class: RoadClass | None = Field(None, description="the road's class when absent")
    status: SegmentStatus = SegmentStatus.OPEN
    upstream: list[ExternalId] | None = Field(
        None, description="segments feeding this one; derived from the nodes when absent"
    )
    downstream: list[ExternalId] | None = Field(
        None, description="segments this one feeds; derived from the nodes when absent"
    )


class SegmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    direction: str | None = Field(None, max_length=64)
    geometry: list[Coordinate] | None = Field(None, min_length=2)
    length_m: float | None = Field(None, gt=0, le=100_000)
    lanes: int | None = Field(None, ge=1, le=16)
    speed_limit_kmh: float | None = Field(None, gt=0, le=200)
    free_flow_kmh: float | None = Field(None, gt=0, le=200)
    capacity_vphpl: float | None = Field(None, gt=0, le=4000)
    road_class: RoadClass | None = None
    status: SegmentStatus | None = None
    upstream: list[ExternalId] | None = None
    downstream: list[ExternalId] | None = None


class SegmentRead(BaseModel):
    id: str
    road_id: str
    name: str
    direction: str
    from_node: str
    to_node: str
    geometry: list[list[float]]
    length_m: float
    lanes: int
    speed_limit_kmh: float
    free_flow_kmh: float
    capacity_vphpl: float | None
    road_class: str
    status: SegmentStatus
    upstream: list[str]
    downstream: list[str]
    created_at: datetime
    updated_at: datetime


class DetectorKind(StrEnum):
    SINGLE_LOOP = "single_loop"
    DUAL_LOOP = "dual_loop"
    SPEED_SENSOR = "speed_sensor"
    RADAR = "radar"
    VIDEO = "video"


class DetectorPlace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment_id: ExternalId
    kind: DetectorKind = DetectorKind.DUAL_LOOP
    lane: int | None = Field(
        None, ge=1, le=16, description="1 = nearside; absent: across `lanes` lanes"
    )
    offset_m: float = Field(ge=0, description="metres from the segment's upstream end")
    lanes: int | None = Field(
        None, ge=1, le=16, description="lanes the station spans; the segment's when absent"
    )
    name: str = Field("", max_length=200)


class DetectorRead(BaseModel):
    device_id: str
    name: str
    kind: str
    segment_id: str
    lane: int | None
    offset_m: float
    lanes: int
    created_at: datetime
    updated_at: datetime


class CameraPlace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment_id: ExternalId
    offset_m: float = Field(ge=0, description="metres from the segment's upstream end")
    heading_deg: float = Field(ge=0, lt=360, description="viewing direction, clockwise from north")
    name: str = Field("", max_length=200)


class CameraRead(BaseModel):
    device_id: str
    name: str
    segment_id: str
    offset_m: float
    heading_deg: float
    created_at: datetime
    updated_at: datetime


class ImportCounts(BaseModel):
    roads: int = 0
    segments: int = 0
    detectors: int = 0
    cameras: int = 0


class ImportReport(BaseModel):
    format: str
    created: ImportCounts
    updated: ImportCounts
    # detectors named by a device name the registry does not (yet) know: placed when it does
    pending_detectors: list[str]


class PatrolStatus(StrEnum):
    OFF_DUTY = "off_duty"
    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"


class PatrolCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_sign: str = Field(min_length=1, max_length=32, pattern=r"^[^/\s]+$")
    vehicle: str = Field("", max_length=120)
    officers: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        default_factory=list, max_length=8
    )
    home_zone: str = Field("", max_length=120)
    status: PatrolStatus = PatrolStatus.OFF_DUTY
    device_id: str | None = Field(
        None, min_length=1, max_length=36, description="the GPS tracker's device id"
    )


class PatrolUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_sign: str | None = Field(None, min_length=1, max_length=32, pattern=r"^[^/\s]+$")
    vehicle: str | None = Field(None, max_length=120)
    officers: list[Annotated[str, Field(min_length=1, max_length=120)]] | None = Field(
        None, max_length=8
    )
    home_zone: str | None = Field(None, max_length=120)
    device_id: str | None = Field(
        None, min_length=1, max_length=36, description="the GPS tracker; null unlinks it"
    )


class PatrolStatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: PatrolStatus


class Position(BaseModel):
    lon: float
    lat: float
    ts: int
    speed_kmh: float | None
    heading_deg: float | None


class PatrolRead(BaseModel):
    id: str
    call_sign: str
    vehicle: str
    officers: list[str]
    home_zone: str
    status: PatrolStatus
    device_id: str | None
    position: Position | None
    created_at: datetime
    updated_at: datetime


class NearestPatrol(BaseModel):
    unit: PatrolRead
    distance_m: float
