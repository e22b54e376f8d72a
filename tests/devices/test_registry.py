"""The device registry through its HTTP API, on every backend profile."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from roadwatch.platform.auth import Role
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from tests.fixtures.app import RunningApp

LOOP = {"name": "loop-A1", "type": "induction_loop", "location": {"lon": 30.31, "lat": 59.94}}


async def test_created_device_can_be_read_back(running: RunningApp, admin: dict[str, str]) -> None:
    created = await running.client.post("/api/v1/devices", json=LOOP, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/devices/{body['id']}"
    # the access token is shown once, at creation; the registry keeps only its hash
    token = body.pop("access_token")
    assert len(token) == 20
    fetched = await running.client.get(f"/api/v1/devices/{body['id']}", headers=admin)
    assert fetched.json() == body
    assert body["has_credentials"] is True
    assert body["location"] == {"lon": 30.31, "lat": 59.94}
    assert body["type"] == "induction_loop"


async def test_duplicate_name_is_a_conflict_naming_the_field(
    running: RunningApp, admin: dict[str, str]
) -> None:
    await running.client.post("/api/v1/devices", json=LOOP, headers=admin)
    again = await running.client.post("/api/v1/devices", json=LOOP, headers=admin)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["field"] == "name"


async def test_invalid_input_names_the_field(running: RunningApp, admin: dict[str, str]) -> None:
    bad = {"name": "x", "type": "teleporter", "location": {"lon": 200, "lat": 0}}
    response = await running.client.post("/api/v1/devices", json=bad, headers=admin)
    assert response.status_code == 422
    problem = response.json()
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {"type", "location.lon"}
    assert "location.lon" in problem["detail"]


async def test_malformed_json_is_a_4xx(running: RunningApp, admin: dict[str, str]) -> None:
    response = await running.client.post(
        "/api/v1/devices",
        content=b"{not json",
        headers={**admin, "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_list_filters_sorts_and_pages_stably(
    running: RunningApp, admin: dict[str, str]
) -> None:
    for i in range(7):
        kind = "camera" if i % 2 else "induction_loop"
        payload = {"name": f"dev-{i}", "type": kind, "label": "north" if i < 3 else "south"}
        assert (
            await running.client.post("/api/v1/devices", json=payload, headers=admin)
        ).status_code == 201
    cameras = await running.client.get("/api/v1/devices?type=camera", headers=admin)
    assert [d["name"] for d in cameras.json()["items"]] == ["dev-1", "dev-3", "dev-5"]
    seen: list[str] = []
    for offset in (0, 3, 6):
        page = await running.client.get(
            f"/api/v1/devices?sort=-name&limit=3&offset={offset}", headers=admin
        )
        assert page.json()["total"] == 7
        seen += [d["name"] for d in page.json()["items"]]
    assert seen == [f"dev-{i}" for i in range(6, -1, -1)]
    north = await running.client.get("/api/v1/devices?q=NORTH", headers=admin)
    assert north.json()["total"] == 3
    unknown_sort = await running.client.get("/api/v1/devices?sort=colour", headers=admin)
    assert unknown_sort.status_code == 422
    assert "colour" in unknown_sort.json()["detail"]


async def test_update_and_delete(running: RunningApp, admin: dict[str, str]) -> None:
    device = (await running.client.post("/api/v1/devices", json=LOOP, headers=admin)).json()
    url = f"/api/v1/devices/{device['id']}"
    patched = await running.client.patch(url, json={"label": "lane 2"}, headers=admin)
    assert patched.json()["label"] == "lane 2"
    assert patched.json()["name"] == "loop-A1"
    empty = await running.client.patch(url, json={}, headers=admin)
    assert empty.status_code == 422
    assert (await running.client.delete(url, headers=admin)).status_code == 204
    assert (await running.client.get(url, headers=admin)).status_code == 404
    # the name is free again once its device is deleted
    again = await running.client.post("/api/v1/devices", json=LOOP, headers=admin)
    assert again.status_code == 201


async def test_reading_needs_a_role_with_devices_read(running: RunningApp) -> None:
    assert (await running.client.get("/api/v1/devices")).status_code == 401
    citizen = await running.client.get("/api/v1/devices", headers=running.as_role(Role.CITIZEN))
    assert citizen.status_code == 403
    analyst = await running.client.get("/api/v1/devices", headers=running.as_role(Role.ANALYST))
    assert analyst.status_code == 200
    write = await running.client.post(
        "/api/v1/devices", json=LOOP, headers=running.as_role(Role.ANALYST)
    )
    assert write.status_code == 403


async def test_each_change_is_an_event_in_the_same_transaction(
    running: RunningApp, admin: dict[str, str]
) -> None:
    device = (await running.client.post("/api/v1/devices", json=LOOP, headers=admin)).json()
    await running.client.patch(
        f"/api/v1/devices/{device['id']}",
        json={"label": "moved"},
        headers={**admin, "X-Request-ID": "req-42"},
    )
    async with running.platform.db.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.seq))).all()
    events = [Event.from_json(row.body) for row in rows if row.type.startswith("devices.device")]
    assert [e.type for e in events] == ["devices.device.created", "devices.device.updated"]
    assert events[1].payload["state"]["label"] == "moved"
    assert events[1].entity_id == device["id"]
    assert events[1].actor == "user:test-administrator"
    assert events[1].correlation_id == "req-42"
    # the relay publishes them shortly after commit
    for _ in range(100):
        if await running.platform.relay.pending() == 0:
            break
        await asyncio.sleep(0.05)
    assert await running.platform.relay.pending() == 0
