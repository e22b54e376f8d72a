"""Patrol units through the API: crews and unique call signs, the status lifecycle (each
change an event), positions and tracks from the tracker's telemetry, the nearest available
units to a point, and units made for the simulator's patrol cars."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from roadwatch.platform.events.outbox import OutboxRow
from roadwatch.traffic.repository import PatrolRepository
from tests.factories.devices import create_device
from tests.factories.traffic import TRAFFIC, create_patrol
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually

PATROLS = f"{TRAFFIC}/patrols"


async def test_units_are_created_changed_listed_and_deleted_with_unique_call_signs(
    running: RunningApp, admin: dict[str, str], dispatcher: dict[str, str]
) -> None:
    client = running.client
    unit = await create_patrol(client, dispatcher, "P1", home_zone="north")
    assert unit["status"] == "off_duty" and unit["position"] is None
    assert unit["officers"] == ["Ann", "Bo"]
    await create_patrol(client, dispatcher, "P2", home_zone="south")

    taken = await client.post(PATROLS, json={"call_sign": "P1"}, headers=dispatcher)
    assert taken.status_code == 409 and "P1" in taken.json()["detail"]
    rename = await client.patch(
        f"{PATROLS}/{unit['id']}", json={"call_sign": "P2"}, headers=dispatcher
    )
    assert rename.status_code == 409

    changed = await client.patch(
        f"{PATROLS}/{unit['id']}", json={"officers": ["Cy"], "vehicle": "Skoda"}, headers=dispatcher
    )
    assert changed.status_code == 200
    assert changed.json()["officers"] == ["Cy"] and changed.json()["vehicle"] == "Skoda"

    north = await client.get(f"{PATROLS}?home_zone=north", headers=dispatcher)
    assert [u["call_sign"] for u in north.json()["items"]] == ["P1"]
    everyone = await client.get(f"{PATROLS}?sort=-call_sign", headers=dispatcher)
    assert [u["call_sign"] for u in everyone.json()["items"]] == ["P2", "P1"]

    assert (await client.delete(f"{PATROLS}/{unit['id']}", headers=dispatcher)).status_code == 204
    assert (await client.get(f"{PATROLS}/{unit['id']}", headers=dispatcher)).status_code == 404

    bad = await client.post(PATROLS, json={"call_sign": ""}, headers=dispatcher)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "call_sign"


async def test_status_follows_the_lifecycle_table_and_each_change_is_an_event(
    running: RunningApp, dispatcher: dict[str, str], analyst: dict[str, str]
) -> None:
    client = running.client
    unit = await create_patrol(client, dispatcher, "P7")
    url = f"{PATROLS}/{unit['id']}/status"
    skipped = await client.post(url, json={"status": "on_scene"}, headers=dispatcher)
    assert skipped.status_code == 409
    assert skipped.json()["allowed"] == ["available"]
    for step in ("available", "en_route", "on_scene", "available", "off_duty"):
        response = await client.post(url, json={"status": step}, headers=dispatcher)
        assert response.status_code == 200, (step, response.text)
        assert response.json()["status"] == step
    unknown = await client.post(url, json={"status": "napping"}, headers=dispatcher)
    assert unknown.status_code == 422
    # analysts watch the units; dispatchers direct them
    watching = await client.post(url, json={"status": "available"}, headers=analyst)
    assert watching.status_code == 403

    async with running.platform.db.session() as session:
        rows = (
            await session.scalars(
                select(OutboxRow).where(OutboxRow.type == "traffic.patrol.status_changed")
            )
        ).all()
    assert len(rows) == 5


async def send_fix(
    running: RunningApp, token: str, ts: int, lon: float, lat: float, speed: float
) -> None:
    values = {"latitude": lat, "longitude": lon, "speed": speed, "heading": 90.0}
    response = await running.client.post(
        f"/api/v1/{token}/telemetry", json={"ts": ts, "values": values}
    )
    assert response.status_code == 200, response.text


async def test_a_trackers_telemetry_moves_its_unit_and_the_nearest_available_come_first(
    running: RunningApp, admin: dict[str, str], dispatcher: dict[str, str]
) -> None:
    client = running.client
    now = int(time.time() * 1000)
    units: dict[str, dict[str, Any]] = {}
    tokens: dict[str, str] = {}
    for call_sign, lon in (("P1", 12.001), ("P2", 12.010), ("P3", 12.0001)):
        tracker = await create_device(client, admin, name=f"gps-{call_sign}", type="patrol_gps")
        tokens[call_sign] = tracker["access_token"]
        unit = await create_patrol(client, dispatcher, call_sign, device_id=tracker["id"])
        units[call_sign] = unit
        await send_fix(running, tracker["access_token"], now - 20_000, lon, 48.0, 0.0)
        await send_fix(running, tracker["access_token"], now - 10_000, lon, 48.0, 30.0)
    for call_sign in ("P1", "P2"):
        await client.post(
            f"{PATROLS}/{units[call_sign]['id']}/status",
            json={"status": "available"},
            headers=dispatcher,
        )

    async def located() -> bool:
        listed = (await client.get(PATROLS, headers=dispatcher)).json()["items"]
        return all(u["position"] and u["position"]["ts"] == now - 10_000 for u in listed)

    await eventually(located)
    p1 = (await client.get(f"{PATROLS}/{units['P1']['id']}", headers=dispatcher)).json()
    assert p1["position"] == {
        "lon": 12.001, "lat": 48.0, "ts": now - 10_000, "speed_kmh": 30.0, "heading_deg": 90.0
    }  # fmt: skip

    # a late fix joins the track but does not move the unit back
    await send_fix(running, tokens["P1"], now - 15_000, 12.5, 48.5, 10.0)

    async def three_fixes() -> bool:
        track = await client.get(f"{PATROLS}/{units['P1']['id']}/track", headers=dispatcher)
        return len(track.json()) == 3

    await eventually(three_fixes)
    track = (await client.get(f"{PATROLS}/{units['P1']['id']}/track", headers=dispatcher)).json()
    assert [p["ts"] for p in track] == [now - 20_000, now - 15_000, now - 10_000]
    window = await client.get(
        f"{PATROLS}/{units['P1']['id']}/track?startTs={now - 16_000}&endTs={now}",
        headers=dispatcher,
    )
    assert [p["ts"] for p in window.json()] == [now - 15_000, now - 10_000]
    p1 = (await client.get(f"{PATROLS}/{units['P1']['id']}", headers=dispatcher)).json()
    assert p1["position"]["lon"] == 12.001

    # P3 is nearest but off duty: the available ones come, nearest first
    nearest = await client.get(f"{PATROLS}/nearest?lon=12.0&lat=48.0", headers=dispatcher)
    assert nearest.status_code == 200
    ranked = [(n["unit"]["call_sign"], round(n["distance_m"])) for n in nearest.json()]
    assert [c for c, _ in ranked] == ["P1", "P2"]
    assert 70 <= ranked[0][1] <= 80  # 0.001° of longitude at 48° N is about 74 m
    anyone = await client.get(
        f"{PATROLS}/nearest?lon=12.0&lat=48.0&status=off_duty&limit=1", headers=dispatcher
    )
    assert [n["unit"]["call_sign"] for n in anyone.json()] == ["P3"]
    off_map = await client.get(f"{PATROLS}/nearest?lon=200&lat=48", headers=dispatcher)
    assert off_map.status_code == 422 and off_map.json()["errors"][0]["field"] == "lon"
    backwards = await client.get(
        f"{PATROLS}/{units['P1']['id']}/track?startTs=10&endTs=5", headers=dispatcher
    )
    assert backwards.status_code == 422

    # one tracker serves one unit
    shared = await client.patch(
        f"{PATROLS}/{units['P2']['id']}",
        json={"device_id": units["P1"]["device_id"]},
        headers=dispatcher,
    )
    assert shared.status_code == 409


async def test_a_patrol_car_device_naming_its_unit_gets_one(
    running: RunningApp, admin: dict[str, str], dispatcher: dict[str, str]
) -> None:
    tracker = await create_device(
        running.client, admin, name="sim-patrol-9", type="patrol_gps", extra={"unit": "P9"}
    )

    async def created() -> bool:
        listed = await running.client.get(PATROLS, headers=dispatcher)
        return any(u["call_sign"] == "P9" for u in listed.json()["items"])

    await eventually(created)
    listed = (await running.client.get(PATROLS, headers=dispatcher)).json()["items"]
    unit = next(u for u in listed if u["call_sign"] == "P9")
    assert unit["device_id"] == tracker["id"] and unit["status"] == "available"


async def test_a_units_track_keeps_only_its_newest_fixes(
    running: RunningApp,
    admin: dict[str, str],
    dispatcher: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the bound is 2,000 fixes; a small one shows the pruning without sending thousands
    monkeypatch.setattr(PatrolRepository, "TRACK_LIMIT", 3)
    tracker = await create_device(running.client, admin, name="gps-t", type="patrol_gps")
    unit = await create_patrol(running.client, dispatcher, "T1", device_id=tracker["id"])
    now = int(time.time() * 1000)
    stamps = [now - 50_000 + i * 10_000 for i in range(5)]
    for ts in stamps:
        await send_fix(running, tracker["access_token"], ts, 12.0, 48.0, 20.0)

    async def newest_three() -> bool:
        track = await running.client.get(f"{PATROLS}/{unit['id']}/track", headers=dispatcher)
        return [p["ts"] for p in track.json()] == stamps[-3:]

    await eventually(newest_three)
