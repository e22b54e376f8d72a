"""Devices registered through the API, ready to send telemetry."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.waiting import eventually


async def create_device(
    client: httpx.AsyncClient, admin: dict[str, str], **fields: Any
) -> dict[str, Any]:
    """A new device (its answer holds `access_token`), once telemetry accepts its token."""
    body = {"name": f"dev-{uuid.uuid4().hex[:8]}", "type": "induction_loop", **fields}
    response = await client.post("/api/v1/devices", json=body, headers=admin)
    assert response.status_code == 201, response.text
    device: dict[str, Any] = response.json()
    await until_token_accepted(client, device["access_token"])
    return device


async def until_token_accepted(client: httpx.AsyncClient, token: str) -> None:
    # the telemetry service learns of devices from events: wait for it to know this one
    async def known() -> bool:
        probe = await client.post(f"/api/v1/{token}/telemetry", content=b"not json")
        return probe.status_code != 401

    await eventually(known, timeout_s=10)


LOOP_KEYS = [
    {"key": "speed", "unit": "km/h", "min": 0, "max": 250},
    {"key": "occupancy", "unit": "%", "min": 0, "max": 100},
    {"key": "count", "unit": "veh"},
]


async def create_profile(
    client: httpx.AsyncClient, admin: dict[str, str], **fields: Any
) -> dict[str, Any]:
    """A new device profile; induction-loop keys with ranges unless `telemetry_keys` given."""
    body = {"name": f"profile-{uuid.uuid4().hex[:8]}", "telemetry_keys": LOOP_KEYS, **fields}
    response = await client.post("/api/v1/device-profiles", json=body, headers=admin)
    assert response.status_code == 201, response.text
    profile: dict[str, Any] = response.json()
    return profile
