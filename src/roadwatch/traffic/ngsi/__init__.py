"""NGSI-LD entities of the FIWARE Smart Data Models (Transportation): the builders and the
two representations, normalized (every attribute typed Property / GeoProperty /
Relationship) and keyValues (plain values).

Each builder returns the keyValues form with relationship names listed, so `normalized()`
can type them; the state and aid parts add TrafficFlowObserved and Alert beside these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Transportation/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
]
GEO_ATTRIBUTES = frozenset({"location", "startPoint", "endPoint"})


def urn(entity_type: str, entity_id: str) -> str:
    return f"urn:ngsi-ld:{entity_type}:{entity_id}"


def iso(value: datetime | int) -> str:
    """An NGSI-LD DateTime (UTC, ISO 8601 with Z) from a datetime or epoch milliseconds."""
    moment = datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int) else value
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Entity:
    id: str
    type: str
    attributes: dict[str, Any]
    # attributes that are references to other entities (their values are URNs)
    relationships: frozenset[str] = field(default_factory=frozenset)

    def key_values(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "type": self.type}
        body.update({k: v for k, v in self.attributes.items() if v is not None})
        body["@context"] = CONTEXT
        return body

    def normalized(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "type": self.type}
        for name, value in self.attributes.items():
            if value is None:
                continue
            if name in self.relationships:
                body[name] = {"type": "Relationship", "object": value}
            elif name in GEO_ATTRIBUTES:
                body[name] = {"type": "GeoProperty", "value": value}
            else:
                body[name] = {"type": "Property", "value": value}
        body["@context"] = CONTEXT
        return body

    def render(self, key_values: bool) -> dict[str, Any]:
        return self.key_values() if key_values else self.normalized()
