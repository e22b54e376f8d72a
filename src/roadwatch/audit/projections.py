"""The device status board: a read model kept from devices and telemetry events, which
`roadwatch audit rebuild device-board` makes again from the event store alone."""

from __future__ import annotations

from typing import Any

from roadwatch.audit.models import AuditDeviceBoard
from roadwatch.audit.reducers import STATUS_CHANGED, Fact
from roadwatch.devices import events as devices

BOARD_EVENTS = frozenset(
    {
        devices.DEVICE_CREATED,
        devices.DEVICE_UPDATED,
        devices.DEVICE_DELETED,
        devices.CREDENTIALS_CHANGED,
        STATUS_CHANGED,
    }
)


def fold_board(row: dict[str, Any] | None, fact: Fact, seq: int) -> dict[str, Any] | None:
    """The board's row for the event's device after the event (None: not on the board)."""
    if fact.type not in BOARD_EVENTS or fact.entity_type != devices.ENTITY:
        return row
    new = dict(row) if row else {"device_id": fact.entity_id, "online": False}
    state = fact.payload.get("state")
    if isinstance(state, dict):
        new.update(
            name=state.get("name", ""),
            type=state.get("type", ""),
            label=state.get("label", ""),
            active=bool(state.get("active", True)),
            has_credentials=bool(state.get("has_credentials", False)),
        )
    elif fact.type == devices.CREDENTIALS_CHANGED:
        new["has_credentials"] = fact.payload.get("token_hash") is not None
    if fact.type == STATUS_CHANGED:
        new["online"] = bool(fact.payload.get("online"))
        new["last_activity_ts"] = fact.payload.get("last_activity_ts")
    new["seq"] = seq
    return new


def board_values(row: AuditDeviceBoard) -> dict[str, Any]:
    return {
        "device_id": row.device_id,
        "name": row.name,
        "type": row.type,
        "label": row.label,
        "active": row.active,
        "has_credentials": row.has_credentials,
        "online": row.online,
        "last_activity_ts": row.last_activity_ts,
        "seq": row.seq,
    }


def board_defaults(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "",
        "type": "",
        "label": "",
        "active": True,
        "has_credentials": False,
        "online": False,
        "last_activity_ts": None,
        **values,
    }
