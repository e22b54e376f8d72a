"""Settings of the device-facing MQTT endpoint: they live with all others in roadwatch.config."""

from roadwatch.config import MqttSettings

__all__ = ["MqttSettings"]
