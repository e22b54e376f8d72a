"""Every query of the devices service."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices.models import Device


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
