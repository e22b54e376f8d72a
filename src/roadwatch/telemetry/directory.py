"""The telemetry service's own directory of devices, kept from the devices service's events.

Every message a device sends is checked against it, so it lives in our tables (one indexed
lookup) instead of asking the devices service, which may run in another process.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices import events as device_events
from roadwatch.platform.auth.digests import secret_digest
from roadwatch.platform.events import Event
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.models import DirectoryDevice
from roadwatch.telemetry.profiles import on_profile_event, profile_timeout_ms


@dataclass(frozen=True, slots=True)
class DeviceRef:
    id: str
    name: str
    profile_id: str | None
    # may speak for other devices (ThingsBoard's gateway API)
    gateway: bool = False


async def device_for_token(platform: Platform, token: str) -> DeviceRef | None:
    """The active device holding this access token, or None."""
    if not token or len(token) > 64:
        return None
    async with platform.db.read_session() as session:
        row = (
            await session.execute(
                select(
                    DirectoryDevice.id,
                    DirectoryDevice.name,
                    DirectoryDevice.profile_id,
                    DirectoryDevice.gateway,
                ).where(
                    DirectoryDevice.token_hash == secret_digest(token),
                    DirectoryDevice.active.is_(True),
                )
            )
        ).first()
    return DeviceRef(row.id, row.name, row.profile_id, bool(row.gateway)) if row else None


async def _apply_device(session: AsyncSession, event: Event) -> None:
    state = event.payload["state"]
    row = await session.get(DirectoryDevice, event.entity_id)
    if row is None:
        row = DirectoryDevice(id=event.entity_id, token_hash=None)
        session.add(row)
    row.name = state["name"]
    row.type = state["type"]
    row.gateway = (state.get("extra") or {}).get("gateway") is True
    profile_id = state.get("profile_id")
    # a profile's own changes reach its devices through on_profile_event
    if profile_id != row.profile_id:
        row.profile_id = profile_id
        row.inactivity_timeout_ms = await profile_timeout_ms(session, profile_id)
    row.active = bool(state["active"]) and event.type != device_events.DEVICE_DELETED
    if not row.active:
        row.token_hash = None


async def _apply_credentials(session: AsyncSession, event: Event) -> None:
    token_hash = event.payload["token_hash"]
    if token_hash is not None:
        # a token moves only between devices through a revocation first, but events of two
        # devices may arrive out of order: the newest holder keeps it
        await session.execute(
            update(DirectoryDevice)
            .where(DirectoryDevice.token_hash == token_hash)
            .values(token_hash=None)
        )
    row = await session.get(DirectoryDevice, event.entity_id)
    if row is None:
        # credentials are set before the device's creation event is published
        row = DirectoryDevice(id=event.entity_id, name="", type="generic", active=True)
        session.add(row)
    row.token_hash = token_hash


async def on_device_event(event: Event, session: AsyncSession) -> None:
    if event.entity_type == device_events.PROFILE_ENTITY:
        await on_profile_event(event, session)
    elif event.type == device_events.CREDENTIALS_CHANGED:
        await _apply_credentials(session, event)
    else:
        await _apply_device(session, event)
    await session.flush()
