"""Device activity and online/offline status.

Activity is written at most once per ACTIVITY_WRITE_S per device and process (a device
sending every second must not add a database write to every message), except when the
device is not known to be online, so coming online is seen at once. Going offline is found
by a periodic sweep: one indexed UPDATE over devices whose last activity is older than the
inactivity timeout (their profile's, else the platform's), which stays cheap at 100,000
devices. Each transition is an event.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import func, select, update

from roadwatch.platform.coalesce import Coalescer
from roadwatch.platform.events import Event, new_event, publish
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.models import DirectoryDevice

STATUS_CHANGED = "telemetry.device.status_changed"
ACTIVITY_WRITE_S = 10.0
SWEEP_EVERY_S = 5.0
_LAST_WRITTEN = "telemetry.activity-written"
_ACTIVITY = "telemetry.activity-writes"
# devices in one activity write at most (bound parameters of one IN list)
ACTIVITY_PER_WRITE = 1000


def _now_ms() -> int:
    return int(time.time() * 1000)


def _status_event(device_id: str, online: bool, last_activity_ts: int | None) -> Event:
    return new_event(
        STATUS_CHANGED,
        "device",
        device_id,
        {"online": online, "last_activity_ts": last_activity_ts},
        actor="system",
    )


def _written(platform: Platform) -> dict[str, float]:
    seen: dict[str, float] = platform.extras.setdefault(_LAST_WRITTEN, {})
    return seen


async def note_activity(platform: Platform, device_id: str) -> None:
    """Record that the device sent something now; mark it online if it was not."""
    written = _written(platform)
    now = time.monotonic()
    if now - written.get(device_id, -ACTIVITY_WRITE_S) < ACTIVITY_WRITE_S:
        return
    await _activity(platform).submit(device_id)
    written[device_id] = now


def _activity(platform: Platform) -> Coalescer[str, None]:
    # thousands of devices connecting at once share one transaction per run
    writes: Coalescer[str, None] | None = platform.extras.get(_ACTIVITY)
    if writes is None:
        writes = Coalescer(lambda ids: _record_activity(platform, ids), ACTIVITY_PER_WRITE)
        platform.extras[_ACTIVITY] = writes
    return writes


async def _record_activity(platform: Platform, device_ids: list[str]) -> list[None]:
    ts = _now_ms()
    unique = set(device_ids)
    async with platform.db.session() as session:
        came_online = set(
            (
                await session.execute(
                    update(DirectoryDevice)
                    .where(DirectoryDevice.id.in_(unique), DirectoryDevice.online.is_(False))
                    .values(online=True, last_activity_ts=ts)
                    .returning(DirectoryDevice.id)
                    .execution_options(synchronize_session=False)
                )
            ).scalars()
        )
        for device_id in sorted(came_online):
            publish(session, _status_event(device_id, True, ts))
        if unique - came_online:
            await session.execute(
                update(DirectoryDevice)
                .where(DirectoryDevice.id.in_(unique - came_online))
                .values(last_activity_ts=ts)
                .execution_options(synchronize_session=False)
            )
    return [None] * len(device_ids)


async def sweep_offline(platform: Platform, now_ms: int | None = None) -> list[str]:
    """Mark devices silent past the inactivity timeout offline; returns their ids."""
    default_ms = platform.settings.telemetry.inactivity_timeout_s * 1000
    now = now_ms if now_ms is not None else _now_ms()
    async with platform.db.session() as session:
        # one statement: a device heard from meanwhile does not match and stays online
        rows = (
            await session.execute(
                update(DirectoryDevice)
                .where(
                    DirectoryDevice.online.is_(True),
                    # each device's own profile timeout, else the platform's
                    DirectoryDevice.last_activity_ts
                    < now - func.coalesce(DirectoryDevice.inactivity_timeout_ms, default_ms),
                )
                .values(online=False)
                .returning(DirectoryDevice.id, DirectoryDevice.last_activity_ts)
                .execution_options(synchronize_session=False)
            )
        ).all()
        if rows:
            publish(session, *(_status_event(r.id, False, r.last_activity_ts) for r in rows))
    written = _written(platform)
    for row in rows:
        written.pop(row.id, None)
    return [row.id for row in rows]


async def keep_status(platform: Platform) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        await sweep_offline(platform)


async def device_status(platform: Platform, device_ids: list[str]) -> dict[str, dict[str, Any]]:
    async with platform.db.read_session() as session:
        rows = (
            await session.execute(
                select(
                    DirectoryDevice.id, DirectoryDevice.online, DirectoryDevice.last_activity_ts
                ).where(DirectoryDevice.id.in_(device_ids))
            )
        ).all()
    return {r.id: {"online": bool(r.online), "last_activity_ts": r.last_activity_ts} for r in rows}
