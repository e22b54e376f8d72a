"""The traffic service: the road network and its topology, detectors and cameras placed on
segments, patrol units and their positions, and (added by its other parts) live traffic
state and automatic incident detection.

It learns devices from the registry's `devices.device.*` events and patrol positions from
`telemetry.batch_ingested`; it never reads another service's tables.
"""

from roadwatch.platform.live import Channel
from roadwatch.platform.module import EventHandler, Module
from roadwatch.telemetry.events import BATCH_INGESTED
from roadwatch.traffic.api import PREFIX, router
from roadwatch.traffic.detection.handler import STATE_COMPUTED, on_state_computed
from roadwatch.traffic.detection.thresholds import configure as configure_aid
from roadwatch.traffic.handlers import on_device_event, on_tracker_batch
from roadwatch.traffic.state.handlers import keep_state, on_detector_batch

module = Module(
    name="traffic",
    router=router,
    prefixes=(PREFIX,),
    handlers=(
        EventHandler("traffic.devices", ("devices.device.*",), on_device_event),
        EventHandler("traffic.patrol_positions", (BATCH_INGESTED,), on_tracker_batch),
        EventHandler("traffic.state", (BATCH_INGESTED,), on_detector_batch),
        EventHandler("traffic.aid", (STATE_COMPUTED,), on_state_computed),
    ),
    startup=(configure_aid,),
    live_channels=(
        Channel(
            "traffic.segment.*",
            "traffic:read",
            "a segment created, changed (status: open/closed/limited; links) or deleted",
        ),
        Channel(
            "traffic.patrol.*",
            "patrols:read",
            "a patrol unit created, changed, deleted or its status changed "
            "(narrow with entity_ids = unit ids)",
        ),
    ),
    tasks=(keep_state,),
)
