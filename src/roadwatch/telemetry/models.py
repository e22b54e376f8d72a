"""Tables of the telemetry service: the points, the latest value per key, and its own
directory of devices (built from the devices service's events, never read from its tables).

On PostgreSQL `telemetry_ts` is range-partitioned by `ts` (see migrations and partitions.py);
on SQLite it is a WITHOUT ROWID table, stored in (device, key, ts) order.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base


class DirectoryDevice(Base):
    __tablename__ = "telemetry_device"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # gateways name the devices they speak for
    name: Mapped[str] = mapped_column(String(200), index=True)
    type: Mapped[str] = mapped_column(String(40))
    # SHA-256 of the access token; None while the device has no credentials
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # when the device last sent anything (ms since the epoch), and what that makes it
    last_activity_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    # the last RPC request number handed out to this device
    rpc_seq: Mapped[int] = mapped_column(Integer, default=0)
    profile_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    # `"gateway": true` in the device's extra: it may speak for others (gateway API)
    gateway: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the profile's inactivity timeout, copied here so the offline sweep stays one UPDATE;
    # None: the platform's default
    inactivity_timeout_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_telemetry_device_online", "online", "last_activity_ts"),)


class DirectoryProfile(Base):
    """What telemetry enforces of a device profile, kept from the devices service's events."""

    __tablename__ = "telemetry_profile"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # {key: [min or null, max or null]} for the keys with a valid range
    ranges: Mapped[dict[str, list[float | None]]] = mapped_column(JSON, default=dict)
    # the device API protocols its devices may use
    protocols: Mapped[list[str]] = mapped_column(JSON, default=list)
    inactivity_timeout_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class _Values:
    # one column per value kind, as ThingsBoard stores them: exactly one is set per row
    bool_v: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    long_v: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    dbl_v: Mapped[float | None] = mapped_column(Float, nullable=True)
    str_v: Mapped[str | None] = mapped_column(Text, nullable=True)
    # JSON values, kept as their text
    json_v: Mapped[str | None] = mapped_column(Text, nullable=True)


class TsPoint(_Values, Base):
    __tablename__ = "telemetry_ts"

    device_id: Mapped[str] = mapped_column(String(36))
    key: Mapped[str] = mapped_column(String(255))
    # milliseconds since the epoch, as devices send it
    ts: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        PrimaryKeyConstraint("device_id", "key", "ts"),
        {"sqlite_with_rowid": False},
    )


class LatestValue(_Values, Base):
    __tablename__ = "telemetry_latest"

    device_id: Mapped[str] = mapped_column(String(36))
    key: Mapped[str] = mapped_column(String(255))
    ts: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        PrimaryKeyConstraint("device_id", "key"),
        Index("ix_telemetry_latest_key", "key"),
    )


class Attribute(_Values, Base):
    """A device attribute, ThingsBoard's three scopes: `client` (reported by the device),
    `shared` (set by the platform, pushed to the device), `server` (the platform's own)."""

    __tablename__ = "telemetry_attribute"

    device_id: Mapped[str] = mapped_column(String(36))
    scope: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(255))
    # milliseconds since the epoch of the last change
    updated_ts: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (PrimaryKeyConstraint("device_id", "scope", "key"),)


class AttributeChange(_Values, Base):
    """Every change of an attribute (a deletion has no value), newest last."""

    __tablename__ = "telemetry_attribute_history"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    scope: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(255))
    changed_ts: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    # who changed it: "device:<id>", "user:<id>", "apikey:<id>"
    actor: Mapped[str] = mapped_column(String(80))

    __table_args__ = (
        Index("ix_telemetry_attribute_history_lookup", "device_id", "scope", "key", "changed_ts"),
    )


class RpcCall(Base):
    """A command from the platform to a device and its life: queued → sent → delivered →
    replied, or expired/failed (see rpc_states.py for the allowed transitions)."""

    __tablename__ = "telemetry_rpc"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    # the number the device sees in v1/devices/me/rpc/request/{n}; unique per device
    request_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(255))
    params: Mapped[str] = mapped_column(Text)  # JSON text
    oneway: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    response: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON text
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_ts: Mapped[int] = mapped_column(BigInteger)
    expires_ts: Mapped[int] = mapped_column(BigInteger)
    sent_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    delivered_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    replied_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        UniqueConstraint("device_id", "request_id"),
        Index("ix_telemetry_rpc_pending", "device_id", "status"),
        Index("ix_telemetry_rpc_expiry", "status", "expires_ts"),
    )
