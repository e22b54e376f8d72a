"""Tables of the traffic service's static world: roads, directed segments and their topology,
detectors and cameras placed on segments, patrol units and their tracks.

Other services are referenced by id only (a detector's `device_id` is the registry's id).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base, UtcDateTime, utcnow


def _uuid() -> str:
    return str(uuid.uuid4())


class Road(Base):
    """A named road; its segments carry the geometry."""

    __tablename__ = "traffic_road"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    road_class: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Segment(Base):
    """One directed stretch of a road between two nodes; the unit traffic state is kept for."""

    __tablename__ = "traffic_segment"

    # the external id, e.g. "N1-C": what detectors, imports and other services name
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    road_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    direction: Mapped[str] = mapped_column(String(64), default="")
    from_node: Mapped[str] = mapped_column(String(64))
    to_node: Mapped[str] = mapped_column(String(64))
    # [[lon, lat], ...] from the upstream end to the downstream end
    geometry: Mapped[list[list[float]]] = mapped_column(JSON)
    length_m: Mapped[float] = mapped_column(Float)
    lanes: Mapped[int] = mapped_column(Integer)
    speed_limit_kmh: Mapped[float] = mapped_column(Float)
    free_flow_kmh: Mapped[float] = mapped_column(Float)
    capacity_vphpl: Mapped[float | None] = mapped_column(Float, nullable=True)
    road_class: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # ids of the segments feeding into / fed by this one, kept consistent both ways
    upstream: Mapped[list[str]] = mapped_column(JSON, default=list)
    downstream: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Detector(Base):
    """A detector device (loop, speed sensor...) placed on a segment."""

    __tablename__ = "traffic_detector"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(32))
    segment_id: Mapped[str] = mapped_column(String(64), index=True)
    # 1 = nearside lane; None: the station spans all its `lanes`
    lane: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offset_m: Mapped[float] = mapped_column(Float)
    lanes: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Camera(Base):
    __tablename__ = "traffic_camera"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    segment_id: Mapped[str] = mapped_column(String(64), index=True)
    offset_m: Mapped[float] = mapped_column(Float)
    # the direction it looks, degrees clockwise from north
    heading_deg: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class PendingPlacement(Base):
    """A detector an import named by device name before the device exists: placed when the
    registry announces a device of that name."""

    __tablename__ = "traffic_pending_placement"

    device_name: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    segment_id: Mapped[str] = mapped_column(String(64))
    lane: Mapped[int | None] = mapped_column(Integer, nullable=True)
    offset_m: Mapped[float] = mapped_column(Float)
    lanes: Mapped[int] = mapped_column(Integer, default=1)


class KnownDevice(Base):
    """The registry's devices by name (from devices.* events), so an import can place a
    detector named by its device name without asking the devices service."""

    __tablename__ = "traffic_device"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(40))


class PatrolUnit(Base):
    __tablename__ = "traffic_patrol_unit"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    call_sign: Mapped[str] = mapped_column(String(32), unique=True)
    vehicle: Mapped[str] = mapped_column(String(120), default="")
    officers: Mapped[list[str]] = mapped_column(JSON, default=list)
    home_zone: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(16), default="off_duty", index=True)
    # the GPS tracker's registry id
    device_id: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    position_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class TrackPoint(Base):
    """A patrol unit's recent GPS fixes (bounded per unit: the oldest are pruned)."""

    __tablename__ = "traffic_patrol_track"

    unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    speed_kmh: Mapped[float | None] = mapped_column(Float, nullable=True)
    heading_deg: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = ({"sqlite_with_rowid": False},)


# the live state's tables (traffic/state/models.py), registered with the same metadata
from roadwatch.traffic.state import models as _state_models  # noqa: E402, F401
