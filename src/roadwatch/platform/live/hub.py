"""The per-process hub: which clients listen to which channels, and the fan-out to them.

Every process gets every live event from the bus on a subscription of its own (transient:
it lives as long as the process), so a client connected to any replica sees every event.
Delivery to clients never blocks the bus: each client has a bounded queue, and a client
that cannot keep up is disconnected with a reason rather than silently skipped.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

from roadwatch.platform.auth.principal import Principal
from roadwatch.platform.events.envelope import Event, topic_matches

log = logging.getLogger(__name__)

CLIENTS = Gauge("roadwatch_live_clients", "WebSocket clients connected to this process")
SENT = Counter("roadwatch_live_events_sent_total", "events queued to WebSocket clients")
DROPPED_CLIENTS = Counter(
    "roadwatch_live_clients_dropped_total", "WebSocket clients disconnected for lagging"
)

# events a client may have waiting before it counts as too slow
CLIENT_QUEUE = 1024


@dataclass(frozen=True)
class Channel:
    """A live channel: event types matching `pattern` (AMQP topic syntax), for callers
    holding `permission`."""

    pattern: str
    permission: str
    description: str = ""


@dataclass
class Client:
    id: int
    principal: Principal
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(CLIENT_QUEUE)
    )
    # channel pattern -> entity ids it is narrowed to (None: every entity)
    subscriptions: dict[str, frozenset[str] | None] = field(default_factory=dict)
    lagging: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, channel: str, event: Event) -> bool:
        entities = self.subscriptions.get(channel, ())
        if entities == ():
            return False
        return entities is None or event.entity_id in entities


class UnknownChannel(LookupError):
    pass


class ChannelForbidden(PermissionError):
    pass


class LiveHub:
    def __init__(self, channels: Iterable[Channel]) -> None:
        self.channels: dict[str, Channel] = {c.pattern: c for c in channels}
        self._clients: dict[int, Client] = {}
        self._ids = itertools.count(1)

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(self.channels)

    def allowed(self, principal: Principal) -> list[Channel]:
        return [c for c in self.channels.values() if principal.can(c.permission)]

    def connect(self, principal: Principal) -> Client:
        client = Client(next(self._ids), principal)
        self._clients[client.id] = client
        CLIENTS.set(len(self._clients))
        return client

    def disconnect(self, client: Client) -> None:
        self._clients.pop(client.id, None)
        CLIENTS.set(len(self._clients))

    def subscribe(self, client: Client, pattern: str, entity_ids: Sequence[str] | None) -> None:
        channel = self.channels.get(pattern)
        if channel is None:
            raise UnknownChannel(pattern)
        if not client.principal.can(channel.permission):
            raise ChannelForbidden(channel.permission)
        client.subscriptions[pattern] = frozenset(entity_ids) if entity_ids else None

    async def deliver(self, events: Sequence[Event]) -> None:
        """The bus hands every live event here; it returns at once, whatever the clients do."""
        for event in events:
            matching = [p for p in self.channels if topic_matches(p, event.type)]
            if not matching:
                continue
            message: dict[str, Any] | None = None
            for client in list(self._clients.values()):
                channel = next((p for p in matching if client.wants(p, event)), None)
                if channel is None or client.lagging.is_set():
                    continue
                if message is None:
                    message = _message(event)
                try:
                    client.queue.put_nowait({**message, "channel": channel})
                    SENT.inc()
                except asyncio.QueueFull:
                    # the connection's writer sees this and closes with a reason
                    DROPPED_CLIENTS.inc()
                    client.lagging.set()
                    log.warning("live client %s too slow; disconnecting", client.id)


def _message(event: Event) -> dict[str, Any]:
    return {
        "type": "event",
        "event": {
            "id": event.id,
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "entity_type": event.entity_type,
            "entity_id": event.entity_id,
            "actor": event.actor,
            "payload": event.payload,
        },
    }
