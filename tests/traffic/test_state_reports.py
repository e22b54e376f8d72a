"""PeMS performance measures and NGSI-LD TrafficFlowObserved through the API, from readings
posted with the device API."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from roadwatch.platform.auth import Role
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually
from tests.traffic.state_city import MIN, SEGMENTS, build_corridor, send

HOUR = 3_600_000
START = (int(time.time() * 1000) // HOUR - 30) * HOUR


def flowing(minute: int) -> dict[str, Any]:
    # 20 vehicles in odd minutes, 21 in even ones, at 45 km/h (every station a dual loop)
    return {"count": 20 + (minute + 1) % 2, "occupancy": 10.0 + minute % 3 / 10, "speed": 45.0}


async def performance(running: RunningApp, **params: Any) -> list[dict[str, Any]]:
    response = await running.client.get(
        "/api/v1/traffic/performance",
        params={"from": START, "to": START + HOUR, **params},
        headers=running.as_role(Role.ANALYST),
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def test_performance_measures_match_a_hand_computation(
    running: RunningApp, admin: dict[str, str]
) -> None:
    corridor = await build_corridor(
        running, admin, kinds={"A": "dual_loop", "B": "dual_loop", "C": "dual_loop"}
    )
    for minute in range(1, 12):
        for s in SEGMENTS:
            await send(running, corridor, s, [(START + minute * MIN, flowing(minute))])

    async def two_intervals() -> bool:
        rows = await performance(running, level="segment", period="hour")
        return [r["intervals"] for r in rows] == [2, 2, 2]

    await eventually(two_intervals)
    rows = {r["id"]: r for r in await performance(running, level="segment", period="hour")}
    a = rows["A"]
    # 5-minute intervals: minutes 1-5 carry 20+21+20+21+20 = 102 vehicles (1224 veh/h),
    # minutes 6-10 carry 103 (1236 veh/h), both at 45 km/h over 1 km, 2 lanes:
    # VMT = (1224 + 1236) / 12 * 1 km = 205 veh-km; VHT = 205 / 45 = 4.556 veh-h
    # delay against 60 km/h = 205 * (1/45 - 1/60) = 1.139 veh-h
    # lost productivity (capacity 1800/lane): (1 - 612/1800) * 2/12 + (1 - 618/1800) * 2/12
    assert a["start_ts"] == START
    assert a["vmt_veh_km"] == pytest.approx(205)
    assert a["vht_veh_h"] == pytest.approx(205 / 45)
    assert a["delay_veh_h"] == pytest.approx(205 * (1 / 45 - 1 / 60))
    assert a["lost_productivity_lane_km_h"] == pytest.approx(
        (1 - 612 / 1800) * 2 / 12 + (1 - 618 / 1800) * 2 / 12
    )
    assert a["threshold_kmh"] == 60

    # the road and the city are the sums of their segments (three alike)
    (road,) = await performance(running, level="road", period="hour")
    (city,) = await performance(running, level="city", period="day")
    assert road["id"] == "R"
    assert road["vmt_veh_km"] == pytest.approx(3 * 205)
    assert city["id"] == "city"
    assert city["vht_veh_h"] == pytest.approx(3 * 205 / 45)
    assert city["start_ts"] == START // (24 * HOUR) * 24 * HOUR


async def test_performance_names_a_bad_query(running: RunningApp) -> None:
    headers = running.as_role(Role.ANALYST)
    response = await running.client.get(
        "/api/v1/traffic/performance",
        params={"from": START, "to": START - 1},
        headers=headers,
    )
    assert response.status_code == 422
    assert "to" in response.json()["detail"]
    response = await running.client.get(
        "/api/v1/traffic/performance",
        params={"from": START, "to": START + HOUR, "level": "county"},
        headers=headers,
    )
    assert response.status_code == 422
    assert "level" in response.text


async def test_readings_export_as_ngsi_ld_traffic_flow_observed(
    running: RunningApp, admin: dict[str, str]
) -> None:
    corridor = await build_corridor(running, admin)
    end = START + MIN
    await send(
        running,
        corridor,
        "A",
        [
            (
                end,
                {
                    "count": 20,
                    "occupancy": 10.0,
                    "speed": 45.0,
                    "count_l1": 11,
                    "occupancy_l1": 11.0,
                    "speed_l1": 44.0,
                    "count_l2": 9,
                    "occupancy_l2": 9.0,
                    "speed_l2": 46.0,
                },
            )
        ],
    )
    await send(running, corridor, "B", [(end, {"count": 18, "occupancy": 12.5})])

    async def entities() -> list[dict[str, Any]]:
        response = await running.client.get(
            "/api/v1/traffic/ngsi-ld/TrafficFlowObserved",
            params={"from": START, "to": START + 5 * MIN},
            headers=running.as_role(Role.AUDITOR),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/ld+json")
        found: list[dict[str, Any]] = response.json()
        return found

    async def stored() -> bool:
        return len(await entities()) == 3

    await eventually(stored)
    found = {e["id"]: e for e in await entities()}
    lane1 = found[f"urn:ngsi-ld:TrafficFlowObserved:{corridor.device_id('A')}:1:{end}"]
    assert lane1["type"] == "TrafficFlowObserved"
    # intensity: vehicles in the interval; occupancy: a fraction; speed km/h
    assert lane1["intensity"]["value"] == 11
    assert lane1["occupancy"]["value"] == pytest.approx(0.11)
    assert lane1["averageVehicleSpeed"]["value"] == 44.0
    assert lane1["laneId"]["value"] == 1
    assert lane1["dateObservedFrom"]["value"].endswith("Z")
    assert lane1["refRoadSegment"]["object"] == "urn:ngsi-ld:RoadSegment:A"
    # 600 m along A, which runs due east from 12.0 E, 48.0 N for 0.0134 degrees:
    # 0.0134 deg * cos(48 deg) * 6371 km * pi/180 = 997.0 m
    length = math.radians(0.0134) * math.cos(math.radians(48.0)) * 6_371_000
    lon, lat = lane1["location"]["value"]["coordinates"]
    assert lon == pytest.approx(12.0 + 0.0134 * 600 / length)
    assert lat == pytest.approx(48.0)
    station_b = found[f"urn:ngsi-ld:TrafficFlowObserved:{corridor.device_id('B')}:all:{end}"]
    assert "laneId" not in station_b
    assert station_b["occupancy"]["value"] == pytest.approx(0.125)
    assert "averageVehicleSpeed" not in station_b
