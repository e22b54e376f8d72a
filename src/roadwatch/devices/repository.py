"""Every query of the devices service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, String, any_, bindparam, func, insert, or_, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices.models import Device, DeviceProfile

# bound on the values of one IN (...) list: SQLite builds before 3.32 allow 999 parameters
_IN_CHUNK = 900

# PostgreSQL takes each column as one array and unnests it server-side: one round trip for
# thousands of devices, where an executemany pays per row
_PG_INSERT_MANY = text(
    """
    INSERT INTO devices_device (id, name, type, label, lon, lat, extra, profile_id, active,
                                token_hash, credentials_changed_at, created_at, updated_at)
    SELECT id, name, type, label, lon, lat, CAST(extra AS json), profile_id, true, token_hash,
           :now, :now, :now
    FROM unnest(
        CAST(:id AS varchar[]), CAST(:name AS varchar[]), CAST(:type AS varchar[]),
        CAST(:label AS varchar[]), CAST(:lon AS float8[]), CAST(:lat AS float8[]),
        CAST(:extra AS text[]), CAST(:profile_id AS varchar[]), CAST(:token_hash AS varchar[])
    ) AS new (id, name, type, label, lon, lat, extra, profile_id, token_hash)
    """
)
NEW_DEVICE_COLUMNS = (
    "id",
    "name",
    "type",
    "label",
    "lon",
    "lat",
    "extra",
    "profile_id",
    "token_hash",
)


class DeviceRepository:
    sortable = {
        "name": Device.name,
        "type": Device.type,
        "created_at": Device.created_at,
        "updated_at": Device.updated_at,
    }

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, device_id: str) -> Device | None:
        return await self.session.get(Device, device_id)

    async def by_name(self, name: str) -> Device | None:
        return await self.session.scalar(select(Device).where(Device.name == name))

    async def by_token_hash(self, digest: str) -> Device | None:
        return await self.session.scalar(select(Device).where(Device.token_hash == digest))

    async def names_taken(self, names: Iterable[str]) -> set[str]:
        """Which of these names active or deleted devices already have."""
        return await self._present(Device.name, list(names))

    async def token_hashes_taken(self, digests: Iterable[str]) -> set[str]:
        return await self._present(Device.token_hash, list(digests))

    async def _present(self, column: Any, values: Sequence[str]) -> set[str]:
        if not values:
            return set()
        if self.session.get_bind().dialect.name == "postgresql":
            # one array parameter: one statement however many values, and one query plan
            wanted = bindparam("wanted", list(values), type_=ARRAY(String))
            return set(await self.session.scalars(select(column).where(column == any_(wanted))))
        found: set[str] = set()
        for start in range(0, len(values), _IN_CHUNK):
            chunk = values[start : start + _IN_CHUNK]
            found.update(await self.session.scalars(select(column).where(column.in_(chunk))))
        return found

    async def insert_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Insert new devices, credentials included, each row holding NEW_DEVICE_COLUMNS."""
        if self.session.get_bind().dialect.name == "postgresql":
            arrays: dict[str, Any] = {c: [row[c] for row in rows] for c in NEW_DEVICE_COLUMNS}
            arrays["extra"] = [orjson.dumps(extra).decode() for extra in arrays["extra"]]
            await self.session.execute(_PG_INSERT_MANY, {**arrays, "now": now})
            return
        stamps = {
            "active": True,
            "credentials_changed_at": now,
            "created_at": now,
            "updated_at": now,
        }
        await self.session.execute(insert(Device), [{**row, **stamps} for row in rows])

    def query(
        self, type: str | None = None, search: str | None = None, active: bool | None = True
    ) -> Select[Any]:
        statement = select(Device)
        if active is not None:
            statement = statement.where(Device.active.is_(active))
        if type:
            statement = statement.where(Device.type == type)
        if search:
            pattern = f"%{search.lower()}%"
            statement = statement.where(
                or_(Device.name.ilike(pattern), Device.label.ilike(pattern))
            )
        return statement

    def add(self, device: Device) -> None:
        self.session.add(device)


class ProfileRepository:
    sortable = {
        "name": DeviceProfile.name,
        "created_at": DeviceProfile.created_at,
        "updated_at": DeviceProfile.updated_at,
    }

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, profile_id: str) -> DeviceProfile | None:
        return await self.session.get(DeviceProfile, profile_id)

    async def by_name(self, name: str) -> DeviceProfile | None:
        return await self.session.scalar(select(DeviceProfile).where(DeviceProfile.name == name))

    async def by_provision_key(self, key: str) -> DeviceProfile | None:
        return await self.session.scalar(
            select(DeviceProfile).where(
                DeviceProfile.provision_key == key, DeviceProfile.active.is_(True)
            )
        )

    async def active_ids(self, ids: Iterable[str]) -> set[str]:
        wanted = list(ids)
        if not wanted:
            return set()
        return set(
            await self.session.scalars(
                select(DeviceProfile.id).where(
                    DeviceProfile.id.in_(wanted), DeviceProfile.active.is_(True)
                )
            )
        )

    async def in_use(self, profile_id: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(Device)
                .where(Device.profile_id == profile_id, Device.active.is_(True))
            )
            or 0
        )

    def query(self, search: str | None = None) -> Select[Any]:
        statement = select(DeviceProfile).where(DeviceProfile.active.is_(True))
        if search:
            statement = statement.where(DeviceProfile.name.ilike(f"%{search.lower()}%"))
        return statement

    def add(self, profile: DeviceProfile) -> None:
        self.session.add(profile)
