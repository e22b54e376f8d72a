"""Tables of the telemetry service: the points, the latest value per key, and its own
directory of devices (built from the devices service's events, never read from its tables).

On PostgreSQL `telemetry_ts` is range-partitioned by `ts` (see migrations and partitions.py);
on SQLite it is a WITHOUT ROWID table, stored in (device, key, ts) order.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roadwatch.platform.db import Base


class DirectoryDevice(Base):
    __tablename__ = "telemetry_device"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    # SHA-256 of the access token; None while the device has no credentials
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
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
