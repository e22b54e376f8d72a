"""Tables of the analytics service: its copy of numeric points, rollups, rules, alarms."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base, UtcDateTime, utcnow


def _uuid() -> str:
    return str(uuid.uuid4())


class AnalyticsPoint(Base):
    """Every numeric point analytics has folded into its rollups (the value last received).

    It is how a re-sent point is recognised (same value: nothing to do), how a bucket is
    recomputed when a late point lands in it, and what `roadwatch analytics rebuild` and
    percentile/raw-resolution queries read. Only numbers: strings and JSON are not rolled up.
    """

    __tablename__ = "analytics_point"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Float)

    __table_args__ = ({"sqlite_with_rowid": False},)


class Rollup(Base):
    """One bucket of one (device, key) at one resolution (60, 300 or 3600 s)."""

    __tablename__ = "analytics_rollup"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    resolution_s: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    sum: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    # the sum of squared deviations from the bucket's mean: variance = m2 / count
    m2: Mapped[float] = mapped_column(Float)
    first_ts: Mapped[int] = mapped_column(BigInteger)
    first: Mapped[float] = mapped_column(Float)
    last_ts: Mapped[int] = mapped_column(BigInteger)
    last: Mapped[float] = mapped_column(Float)

    __table_args__ = ({"sqlite_with_rowid": False},)


class KnownDevice(Base):
    """The devices analytics knows of (from devices.* events), for rules scoped by type or
    profile and for the fleet view."""

    __tablename__ = "analytics_device"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(40), default="generic")
    profile_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the newest point time seen from the device (ms), for the missing-data rules
    last_seen_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # raised whenever a batch changes the device's rollups: part of every cached query's key,
    # so new data (late points too) invalidates what was cached for the device
    data_version: Mapped[int] = mapped_column(BigInteger, default=0)


class Rule(Base):
    __tablename__ = "analytics_rule"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(200))
    # device | device_type | profile, and the id/type/profile id it applies to
    scope: Mapped[str] = mapped_column(String(16))
    scope_value: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    alarm_type: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_analytics_rule_scope", "scope", "scope_value", "key"),)


class RuleState(Base):
    """What a rule carries from one batch of a device to the next (its kind decides)."""

    __tablename__ = "analytics_rule_state"

    rule_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Alarm(Base):
    __tablename__ = "analytics_alarm"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    type: Mapped[str] = mapped_column(String(100))
    originator_type: Mapped[str] = mapped_column(String(40), default="device")
    originator_id: Mapped[str] = mapped_column(String(36), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # "<originator_id>|<type>" while the alarm is active, NULL once cleared: unique, so there
    # is at most one open alarm per originator and type (NULLs never collide)
    open_key: Mapped[str | None] = mapped_column(String(140), nullable=True, unique=True)
    start_ts: Mapped[int] = mapped_column(BigInteger)
    end_ts: Mapped[int] = mapped_column(BigInteger)
    ack_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    clear_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    assignee_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_analytics_alarm_created_at", "created_at"),)


class AlarmComment(Base):
    __tablename__ = "analytics_alarm_comment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    alarm_id: Mapped[str] = mapped_column(String(36), index=True)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
