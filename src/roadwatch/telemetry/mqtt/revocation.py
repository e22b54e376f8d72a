"""Closing MQTT connections whose credentials no longer hold.

A token is checked at CONNECT; a device whose token is rotated or revoked, or that is
deleted, while connected must not go on sending. Each process compares the tokens of the
connections it holds with the directory every REVOCATION_CHECK_S (one indexed query per
thousand connections), so this works whichever replica consumed the devices' events.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.models import DirectoryDevice
from roadwatch.telemetry.mqtt.packets import Reason
from roadwatch.telemetry.mqtt.registry import SessionRegistry, registry_for

REVOCATION_CHECK_S = 5.0
_CHUNK = 1000


async def close_revoked(platform: Platform, registry: SessionRegistry) -> list[str]:
    """Disconnect the sessions whose token is no longer their device's; returns the ids."""
    sessions = {s.device.id: s for s in registry.all()}
    if not sessions:
        return []
    current: dict[str, str | None] = {}
    ids = list(sessions)
    async with platform.db.read_session() as session:
        for start in range(0, len(ids), _CHUNK):
            rows = await session.execute(
                select(DirectoryDevice.id, DirectoryDevice.token_hash).where(
                    DirectoryDevice.id.in_(ids[start : start + _CHUNK]),
                    DirectoryDevice.active.is_(True),
                )
            )
            current.update((row.id, row.token_hash) for row in rows)
    closed = []
    for device_id, held in sessions.items():
        if current.get(device_id) != held.token_hash:
            held.kick(Reason.NOT_AUTHORIZED, "credentials_revoked")
            closed.append(device_id)
    return closed


async def close_revoked_sessions(platform: Platform) -> None:
    """The telemetry module's task."""
    registry = registry_for(platform)
    while True:
        await asyncio.sleep(REVOCATION_CHECK_S)
        await close_revoked(platform, registry)
