"""Reading the audit service through its API, and the services' own view to compare with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from tests.support.waiting import eventually

AUDIT = "/api/v1/audit"
SCOPES = ("client", "shared", "server")


async def audit_state(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    entity_type: str,
    entity_id: str,
    at: datetime | None = None,
) -> dict[str, Any] | None:
    """The state the audit service rebuilds; None when it knows no event of the entity."""
    params = {"at": at.isoformat()} if at is not None else {}
    response = await client.get(
        f"{AUDIT}/entities/{entity_type}/{entity_id}/state", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    state: dict[str, Any] | None = response.json()["state"]
    return state


async def events(
    client: httpx.AsyncClient, headers: dict[str, str], **filters: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        f"{AUDIT}/events", params={"limit": 1000, **filters}, headers=headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def until_recorded(
    client: httpx.AsyncClient, headers: dict[str, str], count: int, **filters: Any
) -> list[dict[str, Any]]:
    """The matching events once at least `count` of them are in the store."""
    found: list[dict[str, Any]] = []

    async def enough() -> bool:
        nonlocal found
        found = await events(client, headers, **filters)
        return len(found) >= count

    await eventually(enough)
    return found


# -- what the owning services say ---------------------------------------------------------------


async def user_now(client: httpx.AsyncClient, admin: dict[str, str], user_id: str) -> Any:
    response = await client.get(f"/api/v1/users/{user_id}", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()


async def device_now(client: httpx.AsyncClient, admin: dict[str, str], device_id: str) -> Any:
    """The registry's device, or {"active": False} once deleted (the registry answers 404)."""
    response = await client.get(f"/api/v1/devices/{device_id}", headers=admin)
    if response.status_code == 404:
        return {"active": False}
    assert response.status_code == 200, response.text
    return response.json()


async def attributes_now(
    client: httpx.AsyncClient, admin: dict[str, str], device_id: str
) -> dict[str, dict[str, Any]]:
    found = {}
    for scope in SCOPES:
        response = await client.get(
            f"/api/v1/telemetry/{device_id}/attributes/{scope}", headers=admin
        )
        if response.status_code == 404:  # not (yet) in the telemetry directory: none
            return {scope: {} for scope in SCOPES}
        assert response.status_code == 200, response.text
        found[scope] = {a["key"]: a["value"] for a in response.json()}
    return found


def comparable_device(state: dict[str, Any] | None) -> Any:
    """A rebuilt device as the registry shows it: deleted ones only as inactive."""
    if state is None or state.get("active") is False:
        return {"active": False} if state is not None else None
    return state


def comparable_attributes(state: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return state if state is not None else {scope: {} for scope in SCOPES}
