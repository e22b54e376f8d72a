"""Tables of the live traffic state (migration 0009): station samples, what the pipeline
learns per station, per-segment state history and latest state, the closing cursor and the
closed intervals to compute again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base, UtcDateTime, utcnow


class StationSample(Base):
    """One reading of one detector station, as the device sent it (stamped with the end of
    its interval), in our units; per-lane values when the device sends them."""

    __tablename__ = "traffic_station_sample"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    end_ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # seconds the reading covers
    interval_s: Mapped[int] = mapped_column(Integer)
    count: Mapped[float | None] = mapped_column(Float, nullable=True)
    occupancy_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    # {"1": {"count": .., "occupancy_pct": .., "speed_kmh": ..}, ...}, lane 1 nearside
    lanes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = ({"sqlite_with_rowid": False},)


class StationModel(Base):
    """What the pipeline has learnt about one station: its g-factor, its ratios to its
    neighbours (for imputation), its reporting interval and its newest reading."""

    __tablename__ = "traffic_station_model"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    g_m: Mapped[float] = mapped_column(Float)
    g_samples: Mapped[int] = mapped_column(Integer, default=0)
    # neighbour device id -> [flow, occupancy, speed, samples]
    ratios: Mapped[dict[str, list[float]]] = mapped_column(JSON, default=dict)
    interval_s: Mapped[int] = mapped_column(Integer)
    latest_ts: Mapped[int] = mapped_column(BigInteger)


class _StateColumns:
    start_ts: Mapped[int] = mapped_column(BigInteger)
    flow_vph: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    speed_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    occupancy_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    density_vpkm: Mapped[float | None] = mapped_column(Float, nullable=True)
    los: Mapped[str | None] = mapped_column(String(1), nullable=True)
    congested: Mapped[bool] = mapped_column(Boolean, default=False)
    travel_time_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    tti: Mapped[float | None] = mapped_column(Float, nullable=True)
    imputed: Mapped[bool] = mapped_column(Boolean, default=False)
    # the stations as in the traffic.state.computed payload
    stations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SegmentState(_StateColumns, Base):
    """One segment's state over one closed interval (60 or 300 s), ending at `end_ts`."""

    __tablename__ = "traffic_segment_state"

    segment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)

    # performance and history queries read every segment's intervals in a time range
    __table_args__ = (Index("ix_traffic_segment_state_interval_end", "interval_s", "end_ts"),)


class SegmentLatest(_StateColumns, Base):
    """Each segment's newest closed interval per interval length."""

    __tablename__ = "traffic_segment_latest"

    segment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    interval_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_ts: Mapped[int] = mapped_column(BigInteger)


class IntervalCursor(Base):
    """Per interval length, the end of the newest interval closed so far."""

    __tablename__ = "traffic_interval_cursor"

    interval_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    closed_until_ts: Mapped[int] = mapped_column(BigInteger)


class DirtyInterval(Base):
    """A closed interval whose samples changed after it was computed (late or corrected
    readings): computed again by the state task, once however many readings changed it."""

    __tablename__ = "traffic_dirty_interval"

    interval_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    end_ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
