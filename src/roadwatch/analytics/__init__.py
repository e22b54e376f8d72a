"""The analytics service: streaming rollups (1 min / 5 min / 1 h), anomaly rules, alarms.

It consumes `telemetry.batch_ingested` (and devices' events for its directory) and never
reads another service's tables.
"""

from roadwatch.analytics.api import PREFIX, router
from roadwatch.analytics.handlers import (
    STATUS_CHANGED,
    on_batch,
    on_device_event,
    on_status_changed,
)
from roadwatch.platform.live import Channel
from roadwatch.platform.module import EventHandler, Module
from roadwatch.telemetry.events import BATCH_INGESTED

module = Module(
    name="analytics",
    router=router,
    prefixes=(PREFIX,),
    live_channels=(
        Channel("analytics.alarm.*", "alarms:read", "alarms raised, updated and handled"),
    ),
    handlers=(
        EventHandler("analytics.rollups", (BATCH_INGESTED,), on_batch),
        EventHandler("analytics.directory", ("devices.device.*",), on_device_event),
        EventHandler("analytics.status", (STATUS_CHANGED,), on_status_changed),
    ),
)
