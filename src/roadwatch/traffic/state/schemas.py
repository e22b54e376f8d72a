"""Response models of the traffic state API (ordinary pydantic)."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import BaseModel, Field


class IntervalLength(IntEnum):
    MINUTE = 60
    FIVE_MINUTES = 300


class StationStateRead(BaseModel):
    device_id: str
    offset_m: float
    flow_vph: float | None
    occupancy_pct: float | None
    speed_kmh: float | None
    speed_estimated: bool
    healthy: bool
    imputed: bool


class SegmentStateRead(BaseModel):
    segment_id: str
    interval_s: int
    start_ts: int = Field(description="ms, the interval's start (included)")
    end_ts: int = Field(description="ms, the interval's end (excluded); readings stamped up to it")
    flow_vph: float | None = Field(description="veh/h over all lanes")
    speed_kmh: float | None
    speed_estimated: bool = Field(description="a station's speed is estimated (g-factor)")
    occupancy_pct: float | None = Field(description="percent, lane-weighted")
    density_vpkm: float | None = Field(description="veh/km over all lanes")
    los: str | None = Field(description="level of service A-F (docs/traffic.md)")
    congested: bool
    travel_time_s: float | None
    tti: float | None = Field(description="travel-time index: travel time / free-flow time")
    imputed: bool = Field(description="a station's values were imputed from its neighbours")
    stations: list[StationStateRead]


class Level(StrEnum):
    SEGMENT = "segment"
    ROAD = "road"
    CITY = "city"


class Period(StrEnum):
    HOUR = "hour"
    DAY = "day"


class PerformanceRead(BaseModel):
    level: Level
    id: str = Field(description="the segment or road id; 'city' for the city")
    period: Period
    start_ts: int = Field(description="ms, the hour's or (local) day's start")
    vmt_veh_km: float = Field(description="vehicle-kilometres travelled")
    vht_veh_h: float = Field(description="vehicle-hours travelled")
    delay_veh_h: float = Field(description="vehicle-hours below the threshold speed")
    lost_productivity_lane_km_h: float = Field(
        description="lane-km-hours of capacity lost while congested"
    )
    threshold_kmh: float
    intervals: int = Field(description="5-minute segment intervals with flow and speed counted")


class HealthRead(BaseModel):
    device_id: str
    segment_id: str | None
    day: str = Field(description="the local day, YYYY-MM-DD")
    status: str = Field(
        description="good, no_data, insufficient_data, card_off, high_value, intermittent, constant"
    )
    healthy: bool
    samples: int
    expected: int
    counts: dict[str, int]
