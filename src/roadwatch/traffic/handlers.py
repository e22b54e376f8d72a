"""What the traffic service does on other services' events: keep its directory of devices
(by name, for imports that name detectors by device name), place detectors and cameras the
registry announces with a segment, give patrol trackers their units, and move the units
from their trackers' telemetry.

Each runs in the inbox's transaction (platform/events/inbox.py), once per event.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.devices import events as device_events
from roadwatch.platform.events import Event
from roadwatch.traffic.models import KnownDevice
from roadwatch.traffic.service.patrols import PatrolService
from roadwatch.traffic.service.placement import PlacementService

PATROL_TRACKER_TYPE = "patrol_gps"
SYSTEM = "system"


async def on_device_event(event: Event, session: AsyncSession) -> None:
    state = event.payload.get("state") or {}
    device_id = event.entity_id
    row = await session.get(KnownDevice, device_id)
    if event.type == device_events.DEVICE_DELETED:
        if row is not None:
            await session.delete(row)
        await PlacementService(session, SYSTEM).on_device_deleted(device_id)
        await PatrolService(session, SYSTEM).on_tracker_deleted(device_id)
        await session.flush()
        return
    if row is None:
        row = KnownDevice(id=device_id, name="", type="")
        session.add(row)
    row.name = str(state.get("name") or "")[:200]
    row.type = str(state.get("type") or "")[:40]
    await session.flush()
    await PlacementService(session, SYSTEM).on_device(device_id, state)
    if row.type == PATROL_TRACKER_TYPE:
        await PatrolService(session, SYSTEM).on_tracker_device(device_id, state)


async def on_tracker_batch(event: Event, session: AsyncSession) -> None:
    """Telemetry of every device passes here; only linked trackers' batches are folded."""
    points = event.payload.get("points") or []
    if not any(p[0] == "latitude" for p in points):
        return
    await PatrolService(session, SYSTEM).on_tracker_points(event.entity_id, points)
