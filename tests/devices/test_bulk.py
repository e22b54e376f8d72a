"""Bulk provisioning: many devices in one request, all or nothing, on every backend profile."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from roadwatch.platform.auth import Role
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from tests.factories.devices import until_token_accepted
from tests.fixtures.app import RunningApp

BULK = "/api/v1/devices/bulk"
CSV = {"content-type": "text/csv"}


def fleet(count: int, prefix: str = "loop") -> list[dict[str, Any]]:
    return [
        {
            "name": f"{prefix}-{n:05d}",
            "type": "induction_loop",
            "label": f"ring road km {n}",
            "location": {"lon": 30.0 + n / 10_000, "lat": 59.9},
        }
        for n in range(count)
    ]


async def device_names(client: httpx.AsyncClient, admin: dict[str, str]) -> set[str]:
    page = await client.get("/api/v1/devices?limit=500", headers=admin)
    assert page.status_code == 200, page.text
    return {device["name"] for device in page.json()["items"]}


async def device_events(running: RunningApp) -> list[Event]:
    async with running.platform.db.session() as session:
        rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.seq))).all()
    return [Event.from_json(row.body) for row in rows if row.type.startswith("devices.")]


async def test_json_bulk_creates_every_device_with_a_working_token(
    running: RunningApp, admin: dict[str, str]
) -> None:
    devices = fleet(300)
    devices[7]["access_token"] = "flashed-at-the-factory-7"
    response = await running.client.post(BULK, json={"devices": devices}, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 300
    assert [d["name"] for d in body["devices"]] == [d["name"] for d in devices]
    assert body["devices"][7]["access_token"] == "flashed-at-the-factory-7"
    assert len({d["access_token"] for d in body["devices"]}) == 300

    first = await running.client.get(f"/api/v1/devices/{body['devices'][0]['id']}", headers=admin)
    assert first.status_code == 200
    assert first.json()["location"] == {"lon": 30.0, "lat": 59.9}
    assert first.json()["label"] == "ring road km 0"
    assert first.json()["has_credentials"] is True
    listed = await running.client.get("/api/v1/devices?limit=1", headers=admin)
    assert listed.json()["total"] == 300
    # the telemetry service learns them from the events: the last one too
    for device in (body["devices"][0], body["devices"][7], body["devices"][-1]):
        await until_token_accepted(running.client, device["access_token"])


async def test_csv_bulk_creates_devices_from_a_spreadsheet_export(
    running: RunningApp, admin: dict[str, str]
) -> None:
    csv = (
        "\ufeffName, Type ,lat,lon,label,access_token\r\n"
        "cam-north,camera,59.95,30.31,North gate,cam-north-token\r\n"
        "cam-south, camera ,,,,\r\n"
        'weather-1,weather_station,59.90,30.20,"roof, building 4",\r\n'
        "\r\n"
    ).encode()
    response = await running.client.post(BULK, content=csv, headers={**admin, **CSV})
    assert response.status_code == 201, response.text
    created = {d["name"]: d for d in response.json()["devices"]}
    assert response.json()["created"] == 3
    assert created["cam-north"]["access_token"] == "cam-north-token"

    north = await running.client.get(f"/api/v1/devices/{created['cam-north']['id']}", headers=admin)
    assert north.json()["type"] == "camera"
    assert north.json()["location"] == {"lon": 30.31, "lat": 59.95}
    south = await running.client.get(f"/api/v1/devices/{created['cam-south']['id']}", headers=admin)
    # empty cells take the defaults
    assert south.json()["location"] is None
    assert south.json()["label"] == ""
    weather = await running.client.get(
        f"/api/v1/devices/{created['weather-1']['id']}", headers=admin
    )
    assert weather.json()["label"] == "roof, building 4"
    await until_token_accepted(running.client, "cam-north-token")
    await until_token_accepted(running.client, created["weather-1"]["access_token"])


async def test_one_bad_row_among_many_creates_nothing_and_every_bad_row_is_reported(
    running: RunningApp, admin: dict[str, str]
) -> None:
    devices: list[Any] = fleet(2000)
    devices[16]["type"] = "teleporter"
    devices[499]["location"] = {"lon": 200, "lat": 59.9}
    devices[1998]["name"] = ""
    devices[1999] = "not a device"
    response = await running.client.post(BULK, json={"devices": devices}, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    reported = [(e["row"], e["field"]) for e in problem["errors"]]
    assert reported == [(17, "type"), (500, "location.lon"), (1999, "name"), (2000, "row")]
    assert all(e["message"] for e in problem["errors"])
    assert "4 of 2000 rows" in problem["detail"]
    assert "nothing was created" in problem["detail"]

    assert await device_names(running.client, admin) == set()
    assert await device_events(running) == []


async def test_duplicates_within_the_file_and_against_the_registry_are_reported(
    running: RunningApp, admin: dict[str, str]
) -> None:
    existing = {"name": "loop-taken", "access_token": "token-taken"}
    assert (
        await running.client.post("/api/v1/devices", json=existing, headers=admin)
    ).status_code == 201
    devices = [
        {"name": "loop-ok"},
        {"name": "loop-taken"},
        {"name": "loop-new", "access_token": "token-taken"},
        {"name": "loop-twice"},
        {"name": "loop-twice"},
        {"name": "loop-a", "access_token": "shared-token"},
        {"name": "loop-b", "access_token": "shared-token"},
    ]
    response = await running.client.post(BULK, json={"devices": devices}, headers=admin)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (2, "name"),
        (3, "access_token"),
        (5, "name"),
        (7, "access_token"),
    ]
    assert "already exists" in errors[0]["message"]
    assert "row 4" in errors[2]["message"]
    assert "row 6" in errors[3]["message"]
    # a token is never echoed back in a report
    assert "shared-token" not in response.text
    assert await device_names(running.client, admin) == {"loop-taken"}


async def test_csv_with_unknown_columns_is_refused_naming_them(
    running: RunningApp, admin: dict[str, str]
) -> None:
    csv = b"name,type,colour,owner\nloop-1,induction_loop,red,me\n"
    response = await running.client.post(BULK, content=csv, headers={**admin, **CSV})
    assert response.status_code == 422
    assert response.json()["columns"] == ["colour", "owner"]
    assert "'colour'" in response.json()["detail"]
    assert "'owner'" in response.json()["detail"]

    nameless = await running.client.post(
        BULK, content=b"type,label\ncamera,x\n", headers={**admin, **CSV}
    )
    assert nameless.status_code == 422
    assert nameless.json()["columns"] == ["name"]
    assert await device_names(running.client, admin) == set()


async def test_csv_report_names_columns_and_counts_data_rows(
    running: RunningApp, admin: dict[str, str]
) -> None:
    csv = (
        b"name,lon,lat\n"
        b"loop-1,30.1,59.9\n"
        b"loop-2,east,59.9\n"
        b"loop-3,30.1\n"
        b"loop-4,30.1,\n"
        b"loop-1,30.2,59.8\n"
    )
    response = await running.client.post(BULK, content=csv, headers={**admin, **CSV})
    assert response.status_code == 422
    problem = response.json()
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [
        (2, "lon"),
        (3, "row"),
        (4, "lat"),
        (5, "name"),
    ]
    assert "header not counted" in problem["detail"]
    assert await device_names(running.client, admin) == set()


async def test_malformed_or_oversized_requests_are_refused(
    running: RunningApp, admin: dict[str, str]
) -> None:
    malformed = await running.client.post(
        BULK, content=b"{not json", headers={**admin, "content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert (await running.client.post(BULK, json={"devices": []}, headers=admin)).status_code == 422
    assert (
        await running.client.post(BULK, json={"devices": [], "x": 1}, headers=admin)
    ).status_code == 422
    too_many = await running.client.post(BULK, json={"devices": fleet(10_001)}, headers=admin)
    assert too_many.status_code == 422
    assert "at most 10000" in too_many.json()["detail"]
    huge = await running.client.post(
        BULK, content=b"name\n" + b"x" * (9 * 1024 * 1024), headers={**admin, **CSV}
    )
    assert huge.status_code == 413
    assert await device_names(running.client, admin) == set()


async def test_provisioning_needs_devices_write(running: RunningApp, admin: dict[str, str]) -> None:
    body = {"devices": fleet(2)}
    assert (await running.client.post(BULK, json=body)).status_code == 401
    analyst = await running.client.post(BULK, json=body, headers=running.as_role(Role.ANALYST))
    assert analyst.status_code == 403
    assert await device_names(running.client, admin) == set()


async def test_each_device_gets_its_credentials_and_created_events(
    running: RunningApp, admin: dict[str, str]
) -> None:
    response = await running.client.post(
        BULK, json={"devices": fleet(50)}, headers={**admin, "X-Request-ID": "bulk-7"}
    )
    assert response.status_code == 201, response.text
    provisioned = {d["id"]: d for d in response.json()["devices"]}
    events = await device_events(running)
    assert len(events) == 100
    by_device: dict[str, list[Event]] = {}
    for event in events:
        by_device.setdefault(event.entity_id, []).append(event)
    assert set(by_device) == set(provisioned)
    for device_id, (credentials, created) in by_device.items():
        # the same pair, in the same order, as for a device created on its own
        assert credentials.type == "devices.credentials.changed"
        token = provisioned[device_id]["access_token"]
        assert credentials.payload["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert created.type == "devices.device.created"
        assert created.actor == "user:test-administrator"
        assert created.correlation_id == "bulk-7"
    # the created event carries the state the registry answers with
    some_id = next(iter(provisioned))
    read = await running.client.get(f"/api/v1/devices/{some_id}", headers=admin)
    assert by_device[some_id][1].payload["state"] == read.json()
