"""The devices connected over MQTT to this process, and pushing a message to one of them.

Attribute updates and RPC requests reach a device through `publish_to_device`, over its
own connection or its gateway's. A device holds one connection: a second one with the same
token takes over from the first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roadwatch.platform.runtime import Platform
from roadwatch.telemetry import gateway_messages
from roadwatch.telemetry.mqtt import metrics, topics

if TYPE_CHECKING:
    from roadwatch.telemetry.mqtt.session import Session

_EXTRAS_KEY = "telemetry.mqtt.sessions"


class SessionRegistry:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        # devices behind a gateway: device id -> (its name, the gateway's device id)
        self._children: dict[str, tuple[str, str]] = {}

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
            for child, (_, gateway) in list(self._children.items()):
                if gateway == device_id:
                    del self._children[child]

    def add_child(self, device_id: str, name: str, gateway_id: str) -> None:
        """The device is reachable through the gateway's connection (gateway API)."""
        self._children[device_id] = (name, gateway_id)

    def remove_child(self, device_id: str, gateway_id: str) -> None:
        if self._children.get(device_id, ("", ""))[1] == gateway_id:
            del self._children[device_id]

    def _route(self, device_id: str) -> tuple[Session | None, str | None]:
        """The session a message for the device goes through, and the device's name when
        that is a gateway's (None when the device is connected itself)."""
        session = self._sessions.get(device_id)
        if session is not None:
            return session, None
        child = self._children.get(device_id)
        if child is None:
            return None, None
        return self._sessions.get(child[1]), child[0]

    def is_connected(self, device_id: str) -> bool:
        return self._route(device_id)[0] is not None

    def connected_ids(self) -> set[str]:
        """Devices reachable here: connected themselves or through a connected gateway."""
        return set(self._sessions) | {
            child for child, (_, gateway) in self._children.items() if gateway in self._sessions
        }

    def granted_qos(self, device_id: str, topic: str) -> int | None:
        session, child_name = self._route(device_id)
        if session is None:
            return None
        if child_name is not None:
            topic = gateway_messages.wrap_topic(topic)
        return session.granted_qos(topic)

    def all(self) -> list[Session]:
        return list(self._sessions.values())

    async def publish_to_device(self, device_id: str, topic: str, payload: bytes | str) -> bool:
        """Send a message to a connected device, at the QoS it subscribed with (at most 1).

        True once it is written (QoS 0) or acknowledged (QoS 1); False if the device is not
        connected here, has no subscription matching `topic`, or did not acknowledge in time.
        """
        session, child_name = self._route(device_id)
        body = payload.encode() if isinstance(payload, str) else payload
        if child_name is not None:
            topic, body = gateway_messages.wrap(topic, body, child_name)
        delivered = session is not None and await session.push(topic, body)
        metrics.SENT.labels(topics.kind(topic), "yes" if delivered else "no").inc()
        return delivered


def registry_for(platform: Platform) -> SessionRegistry:
    """The registry of this platform's MQTT endpoint (empty while it is not running)."""
    registry = platform.extras.get(_EXTRAS_KEY)
    if not isinstance(registry, SessionRegistry):
        registry = platform.extras[_EXTRAS_KEY] = SessionRegistry()
    return registry
