"""The telemetry service: the device API (HTTP, MQTT), time-series storage and queries."""

from fastapi import APIRouter

from roadwatch.platform.module import EventHandler, Module
from roadwatch.telemetry.batch_api import router as batch_router
from roadwatch.telemetry.device_api import router as device_router
from roadwatch.telemetry.directory import on_device_event
from roadwatch.telemetry.partitions import keep_partitions, prepare_partitions
from roadwatch.telemetry.query_api import router as query_router
from roadwatch.telemetry.status import keep_status
from roadwatch.telemetry.status_api import router as status_router

router = APIRouter()
for _part in (device_router, batch_router, query_router, status_router):
    router.include_router(_part)

module = Module(
    name="telemetry",
    router=router,
    # the device API carries the token in its path: the gateway matches it as a template
    prefixes=(query_router.prefix, "/api/v1/{token}/telemetry"),
    handlers=(
        EventHandler(
            "telemetry.directory",
            ("devices.device.*", "devices.credentials.*"),
            on_device_event,
        ),
    ),
    startup=(prepare_partitions,),
    tasks=(keep_partitions, keep_status),
)
