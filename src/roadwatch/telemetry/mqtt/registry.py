"""The devices connected over MQTT to this process, and pushing a message to one of them.

Attribute updates and RPC requests reach a device through `publish_to_device`. A device
holds one connection: a second one with the same token takes over from the first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.mqtt import metrics, topics

if TYPE_CHECKING:
    from roadwatch.telemetry.mqtt.session import Session

_EXTRAS_KEY = "telemetry.mqtt.sessions"


class SessionRegistry:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def add(self, device_id: str, session: Session) -> Session | None:
        """Register the device's new session; returns the one it replaces, if any."""
        previous = self._sessions.get(device_id)
        self._sessions[device_id] = session
        return previous

    def remove(self, device_id: str, session: Session) -> None:
        # a session taken over must not unregister its successor
        if self._sessions.get(device_id) is session:
            del self._sessions[device_id]

    def is_connected(self, device_id: str) -> bool:
        return device_id in self._sessions

    def all(self) -> list[Session]:
        return list(self._sessions.values())

    async def publish_to_device(self, device_id: str, topic: str, payload: bytes | str) -> bool:
        """Send a message to a connected device, at the QoS it subscribed with (at most 1).

        True once it is written (QoS 0) or acknowledged (QoS 1); False if the device is not
        connected here, has no subscription matching `topic`, or did not acknowledge in time.
        """
        session = self._sessions.get(device_id)
        body = payload.encode() if isinstance(payload, str) else payload
        delivered = session is not None and await session.push(topic, body)
        metrics.SENT.labels(topics.kind(topic), "yes" if delivered else "no").inc()
        return delivered


def registry_for(platform: Platform) -> SessionRegistry:
    """The registry of this platform's MQTT endpoint (empty while it is not running)."""
    registry = platform.extras.get(_EXTRAS_KEY)
    if not isinstance(registry, SessionRegistry):
        registry = platform.extras[_EXTRAS_KEY] = SessionRegistry()
    return registry
