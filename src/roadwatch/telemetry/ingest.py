"""What every transport (HTTP, MQTT, batch) uses to take telemetry from a device."""

from roadwatch.telemetry.directory import DeviceRef, device_for_token
from roadwatch.telemetry.group_commit import group_commit
from roadwatch.telemetry.points import InvalidPayload, Point, parse_points

__all__ = [
    "DeviceRef",
    "InvalidPayload",
    "Point",
    "device_for_token",
    "group_commit",
    "parse_points",
]
