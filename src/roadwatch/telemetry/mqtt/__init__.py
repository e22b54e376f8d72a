"""The device-facing MQTT endpoint (3.1.1 and 5), speaking ThingsBoard's device topics.

Our own protocol code on asyncio streams: `codec` turns packets into bytes and back,
`session` serves one connection, `server` listens, `registry` finds a connected device.
"""

from roadwatch.telemetry.mqtt.registry import SessionRegistry, registry_for
from roadwatch.telemetry.mqtt.server import MqttServer, run_mqtt_server, start_mqtt_server
from roadwatch.telemetry.mqtt.settings import MqttSettings

__all__ = [
    "MqttServer",
    "MqttSettings",
    "SessionRegistry",
    "registry_for",
    "run_mqtt_server",
    "start_mqtt_server",
]
