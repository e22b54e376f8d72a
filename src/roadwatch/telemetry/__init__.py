"""The telemetry service: the device API (HTTP, MQTT), time-series storage and queries."""

from roadwatch.platform.module import EventHandler, Module
from roadwatch.telemetry.device_api import router
from roadwatch.telemetry.directory import on_device_event
from roadwatch.telemetry.partitions import keep_partitions, prepare_partitions

module = Module(
    name="telemetry",
    router=router,
    prefixes=(),
    handlers=(
        EventHandler(
            "telemetry.directory",
            ("devices.device.*", "devices.credentials.*"),
            on_device_event,
        ),
    ),
    startup=(prepare_partitions,),
    tasks=(keep_partitions,),
)
