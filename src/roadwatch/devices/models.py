"""Tables of the devices service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base, UtcDateTime, utcnow


class DeviceProfile(Base):
    """What devices of one kind share: their telemetry keys (units, valid ranges), when they
    count as offline, default alarm rules (for analytics), transport and self-provisioning."""

    __tablename__ = "devices_profile"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    # [{"key", "unit", "min", "max"}]: see schemas.TelemetryKey
    telemetry_keys: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # None: the platform's ROADWATCH_TELEMETRY__INACTIVITY_TIMEOUT_S
    inactivity_timeout_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # kept as given; the analytics service reads them from this service's events
    alarm_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {"protocols": ["http", "mqtt"]}: see schemas.TransportSettings
    transport: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    provision_strategy: Mapped[str] = mapped_column(String(40), default="disabled")
    provision_key: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    # SHA-256 of the provision secret, as tokens are kept
    provision_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Device(Base):
    __tablename__ = "devices_device"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    profile_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("devices_profile.id"), nullable=True, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # SHA-256 of the device's access token; None while it has no credentials
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    credentials_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_devices_device_created_at", "created_at"),)
