"""Use cases of the device registry. Flushes, never commits; raises domain errors."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices import events
from roadwatch.devices.models import Device
from roadwatch.devices.repository import DeviceRepository, ProfileRepository
from roadwatch.devices.schemas import DeviceCreate, DeviceRead, DeviceUpdate
from roadwatch.platform.auth.digests import secret_digest
from roadwatch.platform.db import utcnow
from roadwatch.platform.errors import Conflict, InvalidInput, NotFound
from roadwatch.platform.events import publish
from roadwatch.platform.pagination import PageParams, paginate


def to_read(device: Device) -> DeviceRead:
    location = (
        {"lon": device.lon, "lat": device.lat}
        if device.lon is not None and device.lat is not None
        else None
    )
    return DeviceRead.model_validate(
        {
            "id": device.id,
            "name": device.name,
            "type": device.type,
            "label": device.label,
            "location": location,
            "extra": device.extra,
            "profile_id": device.profile_id,
            "active": device.active,
            "has_credentials": device.token_hash is not None,
            "created_at": device.created_at,
            "updated_at": device.updated_at,
        }
    )


# the same digest the telemetry directory looks tokens up by
token_digest = secret_digest


def _state(device: Device) -> dict[str, Any]:
    return to_read(device).model_dump(mode="json")


class DeviceService:
    def __init__(self, session: AsyncSession, actor: str) -> None:
        self.session = session
        self.repo = DeviceRepository(session)
        self.actor = actor

    async def get(self, device_id: str) -> Device:
        device = await self.repo.get(device_id)
        if device is None or not device.active:
            raise NotFound(f"device {device_id} not found")
        return device

    async def list(
        self, params: PageParams, type: str | None, search: str | None
    ) -> tuple[list[Device], int]:
        return await paginate(
            self.session,
            self.repo.query(type=type, search=search),
            params,
            self.repo.sortable,
            tiebreak=Device.id,
            default_sort="name",
        )

    async def _ensure_name_free(self, name: str, own_id: str | None = None) -> None:
        existing = await self.repo.by_name(name)
        if existing is not None and existing.id != own_id:
            raise Conflict(f"name: a device named {name!r} already exists", field="name")

    async def _ensure_profile(self, profile_id: str | None) -> None:
        if profile_id is not None and not await ProfileRepository(self.session).active_ids(
            [profile_id]
        ):
            raise InvalidInput(f"profile_id: no device profile {profile_id}", field="profile_id")

    async def _set_token(self, device: Device, given: str | None) -> str:
        # 20 characters like ThingsBoard's, from 120 random bits
        token = given or secrets.token_urlsafe(15)
        digest = token_digest(token)
        holder = await self.repo.by_token_hash(digest)
        if holder is not None and holder.id != device.id:
            raise Conflict("access_token: another device has this token", field="access_token")
        device.token_hash = digest
        device.credentials_changed_at = utcnow()
        await self.session.flush()
        await self.session.refresh(device)
        publish(
            self.session, events.credentials_event(device.id, digest, self.actor, _state(device))
        )
        return token

    async def create(self, data: DeviceCreate) -> tuple[Device, str]:
        """The new device and its access token (only its hash is kept)."""
        await self._ensure_name_free(data.name)
        await self._ensure_profile(data.profile_id)
        device = Device(
            name=data.name,
            type=data.type.value,
            label=data.label,
            lon=data.location.lon if data.location else None,
            lat=data.location.lat if data.location else None,
            extra=data.extra,
            profile_id=data.profile_id,
        )
        self.repo.add(device)
        await self.session.flush()
        token = await self._set_token(device, data.access_token)
        await self.session.refresh(device)
        publish(
            self.session,
            events.device_event(events.DEVICE_CREATED, device.id, _state(device), self.actor),
        )
        return device, token

    async def rotate_credentials(self, device_id: str, given: str | None) -> str:
        """A new access token; the old one stops working at once."""
        return await self._set_token(await self.get(device_id), given)

    async def revoke_credentials(self, device_id: str) -> None:
        device = await self.get(device_id)
        if device.token_hash is None:
            return
        device.token_hash = None
        device.credentials_changed_at = utcnow()
        await self.session.flush()
        await self.session.refresh(device)
        publish(self.session, events.credentials_event(device.id, None, self.actor, _state(device)))

    async def update(self, device_id: str, data: DeviceUpdate) -> Device:
        device = await self.get(device_id)
        changes = data.model_dump(exclude_unset=True)
        if "name" in changes and changes["name"] is not None:
            await self._ensure_name_free(changes["name"], own_id=device.id)
            device.name = changes["name"]
        if changes.get("type") is not None:
            device.type = changes["type"]
        if changes.get("label") is not None:
            device.label = changes["label"]
        if "location" in changes:
            device.lon = data.location.lon if data.location else None
            device.lat = data.location.lat if data.location else None
        if changes.get("extra") is not None:
            device.extra = changes["extra"]
        if "profile_id" in changes:
            await self._ensure_profile(data.profile_id)
            device.profile_id = data.profile_id
        await self.session.flush()
        await self.session.refresh(device)
        publish(
            self.session,
            events.device_event(events.DEVICE_UPDATED, device.id, _state(device), self.actor),
        )
        return device

    async def delete(self, device_id: str) -> None:
        # soft: the row stays for history and for the audit trail's references
        device = await self.get(device_id)
        device.active = False
        # frees the name for a new device while keeping the old row
        device.name = f"{device.name}#deleted-{device.id}"
        device.token_hash = None
        await self.session.flush()
        publish(
            self.session,
            events.device_event(events.DEVICE_DELETED, device.id, _state(device), self.actor),
        )
