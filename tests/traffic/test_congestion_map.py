"""The congestion map (GeoJSON of segments coloured by level of service) follows the
readings: free flow, then a queue standing on a loop."""

from __future__ import annotations

from typing import Any

import pytest

from roadwatch.platform.auth import Role
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually
from tests.traffic.state_city import MIN, SEGMENTS, build_corridor, send
from tests.traffic.test_state import START, flowing, history


async def test_standstill_is_congestion_and_the_map_changes_with_the_readings(
    running: RunningApp, admin: dict[str, str]
) -> None:
    corridor = await build_corridor(running, admin)

    async def feature(segment: str) -> dict[str, Any]:
        response = await running.client.get(
            "/api/v1/traffic/congestion.geojson", headers=running.as_role(Role.PATROL_OFFICER)
        )
        assert response.status_code == 200
        body = response.json()
        assert body["type"] == "FeatureCollection"
        found = {f["id"]: f for f in body["features"]}
        assert found[segment]["geometry"]["type"] == "LineString"
        return dict(found[segment]["properties"])

    for minute in range(1, 4):
        ts = START + minute * MIN
        for s in SEGMENTS:
            await send(running, corridor, s, [(ts, flowing(minute, speed=s != "B"))])

    async def free() -> bool:
        return (await feature("B"))["updated_ts"] == START + 2 * MIN

    await eventually(free)
    before = await feature("B")
    # the single loop at B, minute 2: 21 vehicles = 630 veh/h/lane * 5.5 m / 0.10 =
    # 34.65 km/h, 69.3 % of free flow: LOS B
    assert before["speed_kmh"] == pytest.approx(34.65)
    assert before["los"] == "B"
    assert before["congested"] is False

    # a queue stands on B's loop: nobody crosses it, occupancy 85 %
    for minute in range(4, 8):
        ts = START + minute * MIN
        await send(running, corridor, "A", [(ts, flowing(minute))])
        await send(running, corridor, "B", [(ts, {"count": 0, "occupancy": 85.0 + minute / 10})])
        await send(running, corridor, "C", [(ts, flowing(minute))])

    async def jammed() -> bool:
        return (await feature("B"))["updated_ts"] == START + 6 * MIN

    await eventually(jammed)
    after = await feature("B")
    assert after["los"] == "F"
    assert after["congested"] is True
    assert after["speed_kmh"] == 0
    assert after["colour"] != before["colour"]
    # standstill is congestion, not missing data: the station stays healthy, nothing imputed
    state = (await history(running, "B", START, START + 10 * MIN))[START + 6 * MIN]
    assert state["stations"][0]["healthy"] is True
    assert state["imputed"] is False
    # 1000 m crawling at 5 km/h = 720 s; free flow 72 s: TTI 10
    assert state["tti"] == pytest.approx(10)
