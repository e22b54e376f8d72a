"""Events the devices service publishes: its asynchronous public contract.

Each carries the device's full state after the change, so the audit service can rebuild any
device at any time from its events alone.
"""

from __future__ import annotations

from typing import Any

from roadwatch.platform.events import Event, new_event

DEVICE_CREATED = "devices.device.created"
DEVICE_UPDATED = "devices.device.updated"
DEVICE_DELETED = "devices.device.deleted"
# the device's access token changed or was revoked; carries its hash, never the token, and
# the device's state after the change (its `has_credentials` and `updated_at` move)
CREDENTIALS_CHANGED = "devices.credentials.changed"
ENTITY = "device"
# a profile's full state after the change; never its provision secret
PROFILE_CREATED = "devices.profile.created"
PROFILE_UPDATED = "devices.profile.updated"
PROFILE_DELETED = "devices.profile.deleted"
PROFILE_ENTITY = "device_profile"


def device_event(type: str, device_id: str, state: dict[str, Any], actor: str) -> Event:
    return new_event(type, ENTITY, device_id, {"state": state}, actor=actor)


def credentials_event(
    device_id: str, token_hash: str | None, actor: str, state: dict[str, Any] | None = None
) -> Event:
    payload: dict[str, Any] = {"token_hash": token_hash}
    if state is not None:
        payload["state"] = state
    return new_event(CREDENTIALS_CHANGED, ENTITY, device_id, payload, actor=actor)


def profile_event(type: str, profile_id: str, state: dict[str, Any], actor: str) -> Event:
    return new_event(type, PROFILE_ENTITY, profile_id, {"state": state}, actor=actor)
