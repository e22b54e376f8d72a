"""The telemetry service: the device API (HTTP, MQTT), time-series storage and queries."""

from fastapi import APIRouter

from roadwatch.platform.live import Channel
from roadwatch.platform.module import EventHandler, Module
from roadwatch.telemetry.attributes_api import router as attributes_router
from roadwatch.telemetry.batch_api import router as batch_router
from roadwatch.telemetry.delivery import push_to_mqtt_devices
from roadwatch.telemetry.device_api import router as device_router
from roadwatch.telemetry.device_attributes_api import router as device_attributes_router
from roadwatch.telemetry.device_rpc_api import router as device_rpc_router
from roadwatch.telemetry.directory import on_device_event
from roadwatch.telemetry.mqtt import run_mqtt_server, start_mqtt_server
from roadwatch.telemetry.mqtt.bridge import run_mqtt_bridge
from roadwatch.telemetry.mqtt.revocation import close_revoked_sessions
from roadwatch.telemetry.partitions import keep_partitions, prepare_partitions
from roadwatch.telemetry.query_api import router as query_router
from roadwatch.telemetry.rpc import expire_rpc_calls
from roadwatch.telemetry.rpc_api import router as rpc_router
from roadwatch.telemetry.status import keep_status
from roadwatch.telemetry.status_api import router as status_router

router = APIRouter()
for _part in (batch_router, query_router, status_router, attributes_router, rpc_router):
    router.include_router(_part)
devices_facing = APIRouter()
for _part in (device_router, device_attributes_router, device_rpc_router):
    devices_facing.include_router(_part)

module = Module(
    name="telemetry",
    router=router,
    device_router=devices_facing,
    # the device API carries the token in its path: the gateway matches it as a template
    prefixes=(
        query_router.prefix,
        "/api/v1/{token}/telemetry",
        "/api/v1/{token}/attributes",
        "/api/v1/{token}/rpc",
    ),
    handlers=(
        EventHandler(
            "telemetry.directory",
            ("devices.device.*", "devices.credentials.*", "devices.profile.*"),
            on_device_event,
        ),
    ),
    live_channels=(
        Channel(
            "telemetry.batch_ingested",
            "telemetry:read",
            "each batch of points a device sent (narrow with entity_ids = device ids)",
        ),
        Channel("telemetry.device.status_changed", "devices:read", "a device went online/offline"),
    ),
    startup=(prepare_partitions, start_mqtt_server),
    tasks=(
        keep_partitions,
        keep_status,
        expire_rpc_calls,
        push_to_mqtt_devices,
        run_mqtt_server,
        run_mqtt_bridge,
        close_revoked_sessions,
    ),
)
