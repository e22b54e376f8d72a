"""Online/offline status from device activity, and its transitions as events."""

from __future__ import annotations

import time

from sqlalchemy import select

from roadwatch.platform.auth import Role
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from roadwatch.telemetry.status import sweep_offline
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp

HOUR_MS = 3_600_000


async def status_events(running: RunningApp, device_id: str) -> list[bool]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(
            select(OutboxRow)
            .where(OutboxRow.type == "telemetry.device.status_changed")
            .order_by(OutboxRow.seq)
        )
        events = [Event.from_json(r.body) for r in rows]
    return [e.payload["online"] for e in events if e.entity_id == device_id]


async def test_a_device_is_online_while_it_talks_and_offline_after_the_timeout(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    device = await create_device(client, admin)
    url = f"/api/v1/telemetry/{device['id']}/status"
    analyst = running.as_role(Role.ANALYST)
    # create_device probed the token with a bad payload: that was no activity
    assert (await client.get(url, headers=analyst)).json() == {
        "online": False,
        "last_activity_ts": None,
    }

    before = int(time.time() * 1000)
    sent = await client.post(f"/api/v1/{device['access_token']}/telemetry", json={"speed": 50})
    assert sent.status_code == 200
    status = (await client.get(url, headers=analyst)).json()
    assert status["online"] is True
    assert before <= status["last_activity_ts"] <= before + 5000

    # silent for longer than the inactivity timeout (the sweep is given the clock)
    timeout_ms = running.platform.settings.telemetry.inactivity_timeout_s * 1000
    assert await sweep_offline(running.platform, now_ms=before + timeout_ms - 1000) == []
    assert await sweep_offline(running.platform, now_ms=before + timeout_ms + HOUR_MS) == [
        device["id"]
    ]
    assert (await client.get(url, headers=analyst)).json()["online"] is False

    again = await client.post(f"/api/v1/{device['access_token']}/telemetry", json={"speed": 51})
    assert again.status_code == 200
    assert (await client.get(url, headers=analyst)).json()["online"] is True
    assert await status_events(running, device["id"]) == [True, False, True]


async def test_status_of_many_devices_and_who_may_see_it(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    talking = await create_device(client, admin)
    silent = await create_device(client, admin)
    await client.post(f"/api/v1/{talking['access_token']}/telemetry", json={"x": 1})

    many = await client.post(
        "/api/v1/telemetry/status",
        json={"device_ids": [talking["id"], silent["id"], "no-such-device"]},
        headers=running.as_role(Role.DISPATCHER),
    )
    assert many.status_code == 200
    body = many.json()
    assert set(body) == {talking["id"], silent["id"]}
    assert body[talking["id"]]["online"] is True
    assert body[silent["id"]]["online"] is False

    missing = await client.get("/api/v1/telemetry/nope/status", headers=admin)
    assert missing.status_code == 404
    citizen = await client.get(
        f"/api/v1/telemetry/{talking['id']}/status", headers=running.as_role(Role.CITIZEN)
    )
    assert citizen.status_code == 403
