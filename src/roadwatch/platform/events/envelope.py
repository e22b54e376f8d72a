"""The event envelope every service publishes, and its wire format (JSON via orjson)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from roadwatch.platform.context import current_correlation_id


@dataclass(frozen=True, slots=True)
class Event:
    # `service.entity.verbed`, e.g. devices.device.created; also the bus routing key
    type: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any]
    # who caused it: "user:<id>", "device:<id>", "apikey:<id>" or "system"
    actor: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str = ""
    # names the service that published it; the prefix of `type`
    source: str = ""

    def to_json(self) -> bytes:
        # by hand, not dataclasses.asdict: that deep-copies the payload, which for a
        # telemetry batch costs more than everything else on its path together
        return orjson.dumps(
            {
                "type": self.type,
                "entity_type": self.entity_type,
                "entity_id": self.entity_id,
                "payload": self.payload,
                "actor": self.actor,
                "id": self.id,
                "occurred_at": self.occurred_at,
                "correlation_id": self.correlation_id,
                "source": self.source,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        data = orjson.loads(raw)
        data["occurred_at"] = datetime.fromisoformat(data["occurred_at"])
        return cls(**data)


def new_event(
    type: str,
    entity_type: str,
    entity_id: object,
    payload: dict[str, Any],
    actor: str = "system",
) -> Event:
    return Event(
        type=type,
        entity_type=entity_type,
        entity_id=str(entity_id),
        payload=payload,
        actor=actor,
        correlation_id=current_correlation_id(),
        source=type.split(".", 1)[0],
    )


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching ('*' one word, '#' zero or more), so both buses route alike."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])
