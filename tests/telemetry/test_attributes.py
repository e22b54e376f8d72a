"""Device attributes: client ones reported by the device, shared ones set by the platform and
seen by the device (read and long-poll), server ones the device never sees, history."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from roadwatch.platform.auth import Role
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp


async def events_of(running: RunningApp, type_: str, device_id: str) -> list[Event]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.type == type_).order_by(OutboxRow.seq)
        )
        found = [Event.from_json(r.body) for r in rows]
    return [e for e in found if e.entity_id == device_id]


async def test_client_attributes_round_trip(running: RunningApp, admin: dict[str, str]) -> None:
    client = running.client
    device = await create_device(client, admin)
    token = device["access_token"]
    sent = await client.post(
        f"/api/v1/{token}/attributes", json={"firmware": "2.1.0", "lanes": 3, "calibrated": True}
    )
    assert sent.status_code == 200, sent.text

    got = await client.get(f"/api/v1/{token}/attributes", params={"clientKeys": "firmware,lanes"})
    assert got.status_code == 200
    assert got.json() == {"client": {"firmware": "2.1.0", "lanes": 3}}
    everything = (await client.get(f"/api/v1/{token}/attributes")).json()
    assert everything == {
        "client": {"firmware": "2.1.0", "lanes": 3, "calibrated": True},
        "shared": {},
    }

    listed = await client.get(
        f"/api/v1/telemetry/{device['id']}/attributes/client",
        headers=running.as_role(Role.ANALYST),
    )
    assert listed.status_code == 200
    assert {a["key"]: a["value"] for a in listed.json()} == {
        "firmware": "2.1.0",
        "lanes": 3,
        "calibrated": True,
    }
    [event] = await events_of(running, "telemetry.attributes.updated", device["id"])
    assert event.actor == f"device:{device['id']}"
    assert event.payload["scope"] == "client"


async def test_bad_attribute_payloads_are_400_naming_the_problem(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    token = (await create_device(client, admin))["access_token"]
    for body, words in (
        (b"not json", "malformed JSON"),
        (b"[1, 2]", "object"),
        (b"{}", "non-empty"),
        (b'{"a": null}', "null"),
    ):
        answer = await client.post(f"/api/v1/{token}/attributes", content=body)
        assert answer.status_code == 400, body
        assert words in answer.json()["detail"]
    assert (await client.post("/api/v1/no-such-token/attributes", json={"a": 1})).status_code == 401


async def test_shared_attributes_set_by_an_admin_reach_the_device(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    device = await create_device(client, admin)
    token = device["access_token"]
    url = f"/api/v1/telemetry/{device['id']}/attributes/shared"

    async def poll() -> tuple[int, float, dict[str, object]]:
        started = time.monotonic()
        answer = await client.get(f"/api/v1/{token}/attributes/updates", params={"timeout": 10000})
        return answer.status_code, time.monotonic() - started, answer.json()

    waiting = asyncio.create_task(poll())
    await asyncio.sleep(0.3)  # the device is polling before the change
    set_at = time.monotonic()
    stored = await client.post(url, json={"mode": "eco", "limit": 60}, headers=admin)
    assert stored.status_code == 200, stored.text
    assert {a["key"] for a in stored.json()} == {"mode", "limit"}

    status, _, update = await waiting
    assert status == 200
    assert update == {"mode": "eco", "limit": 60}
    assert time.monotonic() - set_at < 2.0  # promptly, not at the poll's timeout

    got = await client.get(f"/api/v1/{token}/attributes", params={"sharedKeys": "mode"})
    assert got.json() == {"shared": {"mode": "eco"}}

    # deleting is pushed too, as ThingsBoard does: {"deleted": [...]}
    waiting = asyncio.create_task(poll())
    await asyncio.sleep(0.3)
    deleted = await client.delete(url, params={"keys": "limit"}, headers=admin)
    assert deleted.status_code == 204
    status, _, update = await waiting
    assert (status, update) == (200, {"deleted": ["limit"]})


async def test_the_update_long_poll_times_out_with_408(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    token = (await create_device(client, admin))["access_token"]
    started = time.monotonic()
    answer = await client.get(f"/api/v1/{token}/attributes/updates", params={"timeout": 300})
    assert answer.status_code == 408
    assert 0.25 <= time.monotonic() - started < 3
    bad = await client.get(f"/api/v1/{token}/attributes/updates", params={"timeout": "soon"})
    assert bad.status_code == 400
    assert "timeout" in bad.json()["detail"]


async def test_history_records_who_changed_what(running: RunningApp, admin: dict[str, str]) -> None:
    client = running.client
    device = await create_device(client, admin)
    url = f"/api/v1/telemetry/{device['id']}/attributes/shared"
    await client.post(url, json={"mode": "eco"}, headers=admin)
    await client.post(url, json={"mode": "eco"}, headers=admin)  # unchanged: no history
    await client.post(url, json={"mode": "rush"}, headers=admin)
    await client.delete(url, params={"keys": "mode"}, headers=admin)

    history = await client.get(
        f"{url}/mode/history",
        params={"sort": "changed_ts"},
        headers=running.as_role(Role.AUDITOR),
    )
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["total"] == 3
    assert [(c["value"], c["deleted"]) for c in body["items"]] == [
        ("eco", False),
        ("rush", False),
        (None, True),
    ]
    assert {c["actor"] for c in body["items"]} == {"user:test-administrator"}
    kinds = [e.type for e in await events_of(running, "telemetry.attributes.updated", device["id"])]
    assert len(kinds) == 2


async def test_who_may_set_attributes(running: RunningApp, admin: dict[str, str]) -> None:
    client = running.client
    device = await create_device(client, admin)
    url = f"/api/v1/telemetry/{device['id']}/attributes"
    for role in (Role.CITIZEN, Role.ANALYST, Role.DISPATCHER):
        refused = await client.post(f"{url}/shared", json={"a": 1}, headers=running.as_role(role))
        assert refused.status_code == 403, role
    assert (await client.post(f"{url}/shared", json={"a": 1})).status_code == 401
    assert (
        await client.get(f"{url}/shared", headers=running.as_role(Role.CITIZEN))
    ).status_code == 403
    # the device's own scope is not the platform's to set
    client_scope = await client.post(f"{url}/client", json={"a": 1}, headers=admin)
    assert client_scope.status_code == 400
    assert "client attributes" in client_scope.json()["detail"]
    assert (await client.post(f"{url}/other", json={"a": 1}, headers=admin)).status_code == 422


async def test_server_attributes_are_hidden_from_the_device(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    device = await create_device(client, admin)
    token = device["access_token"]
    url = f"/api/v1/telemetry/{device['id']}/attributes/server"
    assert (await client.post(url, json={"owner": "city"}, headers=admin)).status_code == 200

    seen = (await client.get(f"/api/v1/{token}/attributes")).json()
    assert seen == {"client": {}, "shared": {}}
    listed = await client.get(url, headers=admin)
    assert [(a["key"], a["value"]) for a in listed.json()] == [("owner", "city")]
    # and a server change does not wake the device's poll
    answer = await client.get(f"/api/v1/{token}/attributes/updates", params={"timeout": 300})
    assert answer.status_code == 408


async def test_unknown_devices_are_404(running: RunningApp, admin: dict[str, str]) -> None:
    client = running.client
    base = "/api/v1/telemetry/no-such-device"
    assert (await client.get(f"{base}/attributes/shared", headers=admin)).status_code == 404
    assert (
        await client.post(f"{base}/attributes/shared", json={"a": 1}, headers=admin)
    ).status_code == 404
    assert (
        await client.get(f"{base}/attributes/shared/a/history", headers=admin)
    ).status_code == 404
