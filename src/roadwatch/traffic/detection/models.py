"""Tables of incident detection: the detections, and each algorithm's state per station
pair (so a restart continues where it stopped)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base, UtcDateTime, utcnow


def _uuid() -> str:
    return str(uuid.uuid4())


class Detection(Base):
    """One algorithm's detection on one station pair, from its onset to its end."""

    __tablename__ = "traffic_detection"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    algorithm: Mapped[str] = mapped_column(String(32), index=True)
    # "<upstream device id>><downstream device id>"
    pair_id: Mapped[str] = mapped_column(String(80), index=True)
    upstream_device_id: Mapped[str] = mapped_column(String(36))
    downstream_device_id: Mapped[str] = mapped_column(String(36))
    # where the incident is placed: the point half-way between the stations
    segment_id: Mapped[str] = mapped_column(String(64), index=True)
    offset_m: Mapped[float] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    road_class: Mapped[str] = mapped_column(String(32), default="")
    # null: the stations span all lanes, so the lane is not known
    lanes: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    # tentative | confirmed | cleared | dropped | dismissed (detection/lifecycle.py)
    phase: Mapped[str] = mapped_column(String(16), index=True)
    # the start of the interval whose readings first showed the pattern
    onset_ts: Mapped[int] = mapped_column(BigInteger, index=True)
    confirmed_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cleared_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dismissed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    dismissed_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_traffic_detection_pair_algorithm", "pair_id", "algorithm"),)


class PairState(Base):
    """One algorithm's state on one station pair after the newest interval it judged."""

    __tablename__ = "traffic_aid_pair_state"

    pair_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(32), primary_key=True)
    # the newest interval judged (its end, ms): older or repeated intervals are ignored
    last_end_ts: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the detection this algorithm has open on the pair (tentative or confirmed), if any
    detection_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
