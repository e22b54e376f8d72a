"""What analytics does on other services' events: fold telemetry batches into rollups and
run the rules; keep its directory of devices (type, profile) for rules scoped by them.

Each runs in the inbox's transaction (platform/events/inbox.py): a batch delivered twice,
or to two replicas, is folded once; the per-device lock in the rollup service keeps two
replicas folding different batches of one device from interleaving.
"""

from __future__ import annotations

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.analytics.models import KnownDevice
from roadwatch.analytics.repository import RuleRepository
from roadwatch.analytics.service.alarms import AlarmService
from roadwatch.analytics.service.evaluation import RuleEvaluation
from roadwatch.analytics.service.rollups import RollupService
from roadwatch.devices import events as device_events
from roadwatch.platform.events import Event

POINTS_FOLDED = Counter(
    "roadwatch_analytics_points_folded_total",
    "numeric points folded into rollups (re-sent unchanged points not counted)",
)
ALARM_TRANSITIONS = Counter(
    "roadwatch_analytics_rule_transitions_total", "alarms raised or cleared by rules"
)


async def on_batch(event: Event, session: AsyncSession) -> None:
    device_id = event.entity_id
    folded = await RollupService(session).fold(device_id, event.payload["points"])
    if not len(folded.fresh):
        return
    POINTS_FOLDED.inc(len(folded.fresh))
    device = await session.get(KnownDevice, device_id)
    if device is None:
        device = KnownDevice(id=device_id, type="", profile_id=None, active=True, data_version=0)
        session.add(device)
    device.data_version = (device.data_version or 0) + 1
    transitions = await RuleEvaluation(session).run(
        device_id, folded.fresh, int(event.payload["max_ts"])
    )
    ALARM_TRANSITIONS.inc(transitions)
    await session.flush()


async def on_device_event(event: Event, session: AsyncSession) -> None:
    state = event.payload["state"]
    row = await session.get(KnownDevice, event.entity_id)
    if row is None:
        row = KnownDevice(id=event.entity_id, data_version=0)
        session.add(row)
    row.type = state.get("type") or ""
    profile = state.get("profile_id")
    row.profile_id = str(profile) if profile else None
    row.active = bool(state.get("active", True)) and event.type != device_events.DEVICE_DELETED
    await session.flush()


# telemetry's status event (published by telemetry.status, outside its events module: the
# name is its contract here)
STATUS_CHANGED = "telemetry.device.status_changed"


async def on_status_changed(event: Event, session: AsyncSession) -> None:
    """Raise or clear the alarms of the device's `device_offline` rules."""
    device_id = event.entity_id
    device = await session.get(KnownDevice, device_id)
    rules = await RuleRepository(session).of_kind(
        device_id,
        device.type if device and device.type else None,
        device.profile_id if device else None,
        "device_offline",
    )
    alarms = AlarmService(session, "system")
    last_activity = event.payload.get("last_activity_ts")
    ts = int(last_activity) if last_activity else int(event.occurred_at.timestamp() * 1000)
    for rule in rules:
        if event.payload["online"]:
            await alarms.clear_open(
                device_id, rule.alarm_type, int(event.occurred_at.timestamp() * 1000), {}
            )
        else:
            await alarms.raise_alarm(
                device_id,
                rule.alarm_type,
                rule.severity,
                ts,
                {"rule": rule.name, "last_activity_ts": last_activity},
                rule_id=rule.id,
            )
    await session.flush()
