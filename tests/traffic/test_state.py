"""Live traffic state through the public API: loop stations post telemetry with the device
API, the per-segment state the traffic API returns matches a hand computation."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from roadwatch.platform.auth import Role
from roadwatch.platform.events.outbox import OutboxRow
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually
from tests.traffic.state_city import MIN, SEGMENTS, build_corridor, send

HOUR = 3_600_000
# whole hours a day back: inside telemetry's accepted range, and 5-minute intervals align
START = (int(time.time() * 1000) // HOUR - 24) * HOUR


def flowing(minute: int, speed: bool = True) -> dict[str, Any]:
    """20 vehicles in odd minutes, 21 in even ones (a real detector never repeats itself
    exactly for long: that is the stuck-detector rule), 10 % occupancy, 45 km/h."""
    values: dict[str, Any] = {"count": 20 + (minute + 1) % 2, "occupancy": 10.0}
    if speed:
        values["speed"] = 45.0
    return values


async def history(
    running: RunningApp, segment: str, start_ts: int, end_ts: int, interval: int = 60
) -> dict[int, dict[str, Any]]:
    response = await running.client.get(
        f"/api/v1/traffic/segments/{segment}/state",
        params={"from": start_ts, "to": end_ts, "interval": interval},
        headers=running.as_role(Role.ANALYST),
    )
    assert response.status_code == 200, response.text
    return {s["end_ts"]: s for s in response.json()}


async def test_segment_state_matches_a_hand_computation(
    running: RunningApp, admin: dict[str, str]
) -> None:
    corridor = await build_corridor(running, admin)
    for minute in range(1, 7):
        ts = START + minute * MIN
        await send(running, corridor, "A", [(ts, flowing(minute))])
        # the single loop sends no speed
        await send(running, corridor, "B", [(ts, flowing(minute, speed=False))])
        await send(running, corridor, "C", [(ts, flowing(minute))])
    # minute 3: 20 vehicles
    end = START + 3 * MIN

    async def closed() -> bool:
        return all([end in await history(running, s, START, START + 10 * MIN) for s in SEGMENTS])

    await eventually(closed)
    a = (await history(running, "A", START, START + 10 * MIN))[end]
    # 20 vehicles in 60 s = 1200 veh/h; 600 per lane at 45 km/h = 13.33 veh/km/lane, 2 lanes
    assert a["flow_vph"] == pytest.approx(1200)
    assert a["speed_kmh"] == pytest.approx(45)
    assert a["speed_estimated"] is False
    assert a["occupancy_pct"] == pytest.approx(10)
    assert a["density_vpkm"] == pytest.approx(2 * 600 / 45)
    # arterial: 45 / 50 = 90 % of free flow > 85 %: LOS A
    assert a["los"] == "A"
    assert a["congested"] is False
    # 1000 m at 45 km/h = 80 s; free flow 72 s: TTI 1.111
    assert a["travel_time_s"] == pytest.approx(80)
    assert a["tti"] == pytest.approx(80 / 72)
    assert a["start_ts"] == end - MIN
    assert a["stations"] == [
        {
            "device_id": corridor.device_id("A"),
            "offset_m": 600.0,
            "flow_vph": pytest.approx(1200),
            "occupancy_pct": pytest.approx(10),
            "speed_kmh": pytest.approx(45),
            "speed_estimated": False,
            "healthy": True,
            "imputed": False,
        }
    ]
    b = (await history(running, "B", START, START + 10 * MIN))[end]
    # the single loop: g-factor estimate with the default g (10 % is not free flow, so
    # nothing was learnt): 600 veh/h/lane * 5.5 m / 0.10 = 33 km/h; 33/50 = 66 %: LOS C
    assert b["speed_kmh"] == pytest.approx(33)
    assert b["speed_estimated"] is True
    assert b["los"] == "C"

    # the 5-minute interval 0-5 min: the same readings, the same state
    async def five_closed() -> bool:
        five = await history(running, "C", START, START + 10 * MIN, interval=300)
        return START + 5 * MIN in five

    await eventually(five_closed)
    five = await history(running, "A", START, START + 10 * MIN, interval=300)
    # 20 + 21 + 20 + 21 + 20 = 102 vehicles in 300 s = 1224 veh/h
    assert five[START + 5 * MIN]["flow_vph"] == pytest.approx(1224)
    assert five[START + 5 * MIN]["start_ts"] == START

    # latest per segment
    response = await running.client.get(
        "/api/v1/traffic/state", params={"road_id": "R"}, headers=running.as_role(Role.DISPATCHER)
    )
    assert response.status_code == 200
    assert [s["segment_id"] for s in response.json()] == ["A", "B", "C"]


async def test_a_resent_reading_changes_nothing_and_a_corrected_one_recomputes(
    running: RunningApp, admin: dict[str, str]
) -> None:
    corridor = await build_corridor(running, admin)
    for minute in range(1, 5):
        ts = START + minute * MIN
        for s in SEGMENTS:
            await send(running, corridor, s, [(ts, flowing(minute))])
    end = START + 2 * MIN

    async def closed() -> bool:
        return end in await history(running, "C", START, START + 10 * MIN)

    await eventually(closed)
    # re-sent: identical
    await send(running, corridor, "A", [(end, flowing(2))])
    # corrected late: 30 vehicles at 40 km/h in that minute
    await send(running, corridor, "C", [(end, {"count": 30, "occupancy": 14.0, "speed": 40.0})])

    async def recomputed() -> bool:
        state = (await history(running, "C", START, START + 10 * MIN))[end]
        return bool(state["flow_vph"] == pytest.approx(1800))

    await eventually(recomputed)
    c = (await history(running, "C", START, START + 10 * MIN))[end]
    assert c["speed_kmh"] == pytest.approx(40)
    # minute 2: 21 vehicles = 1260 veh/h
    assert (await history(running, "A", START, START + 10 * MIN))[end]["flow_vph"] == pytest.approx(
        1260
    )


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


async def test_a_stuck_detector_is_excluded_and_imputed_from_its_neighbours(
    running: RunningApp, admin: dict[str, str]
) -> None:
    corridor = await build_corridor(
        running, admin, kinds={"A": "dual_loop", "B": "dual_loop", "C": "dual_loop"}
    )
    for minute in range(1, 16):
        ts = START + minute * MIN
        # A and C vary; from minute 6 on, B repeats its minute-5 reading exactly (stuck)
        a = {"count": 18 + minute % 5, "occupancy": 9.0 + minute % 3, "speed": 44.0 + minute % 4}
        c = {"count": 22 - minute % 5, "occupancy": 11.0 - minute % 3, "speed": 46.0 - minute % 4}
        b = dict(a) if minute <= 5 else {"count": 18, "occupancy": 9.0 + 5 % 3, "speed": 45.0}
        if minute == 5:
            b = {"count": 18, "occupancy": 9.0 + 5 % 3, "speed": 45.0}
        await send(running, corridor, "A", [(ts, a)])
        await send(running, corridor, "B", [(ts, b)])
        await send(running, corridor, "C", [(ts, c)])
    end = START + 12 * MIN

    async def closed() -> bool:
        return end in await history(running, "B", START, START + 20 * MIN)

    await eventually(closed)
    state = (await history(running, "B", START, START + 20 * MIN))[end]
    station = state["stations"][0]
    assert station["healthy"] is False
    assert station["imputed"] is True
    assert state["imputed"] is True
    # minute 12: A 20 vehicles (1200 veh/h), C 20 (1200); the learnt ratios of B to A and
    # to C are ~1 (equal to A's readings before the fault): imputed flow ~ 1200, not B's
    # frozen 18 vehicles (1080 veh/h)
    assert state["flow_vph"] == pytest.approx(1200, rel=0.1)
    assert state["flow_vph"] != pytest.approx(1080, rel=0.01)


async def test_each_closed_interval_is_published_with_the_contract_payload(
    running: RunningApp, admin: dict[str, str]
) -> None:
    corridor = await build_corridor(running, admin)
    for minute in range(1, 5):
        ts = START + minute * MIN
        await send(running, corridor, "A", [(ts, flowing(minute))])
        await send(running, corridor, "B", [(ts, flowing(minute, speed=False))])
        await send(running, corridor, "C", [(ts, flowing(minute))])
    end = START + 3 * MIN

    async def published() -> list[dict[str, Any]]:
        async with running.platform.db.session() as session:
            rows = await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.type == "traffic.state.computed")
                .order_by(OutboxRow.seq)
            )
            events = [orjson.loads(r.body) for r in rows]
        return [e for e in events if e["entity_id"] == f"60:{end}"]

    async def seen() -> bool:
        events = await published()
        return bool(events) and all(s["flow_vph"] for s in events[-1]["payload"]["segments"])

    await eventually(seen)
    event = (await published())[-1]
    assert event["entity_type"] == "traffic_interval"
    payload = event["payload"]
    assert (payload["interval_s"], payload["start_ts"], payload["end_ts"]) == (60, end - MIN, end)
    segments = {s["segment_id"]: s for s in payload["segments"]}
    assert set(segments) == {"A", "B", "C"}
    b = segments["B"]
    assert set(b) == {
        "segment_id", "road_class", "lanes", "length_m", "upstream", "downstream",
        "flow_vph", "speed_kmh", "speed_estimated", "occupancy_pct", "density_vpkm", "los",
        "congested", "travel_time_s", "tti", "imputed", "stations",
    }  # fmt: skip
    assert (b["road_class"], b["lanes"], b["length_m"]) == ("arterial", 2, 1000.0)
    assert (b["upstream"], b["downstream"]) == (["A"], ["C"])
    assert set(b["stations"][0]) == {
        "device_id", "offset_m", "flow_vph", "occupancy_pct", "speed_kmh", "speed_estimated",
        "healthy", "imputed",
    }  # fmt: skip
    # the same as the API's history of that interval
    state = (await history(running, "B", START, START + 10 * MIN))[end]
    assert {k: state[k] for k in ("flow_vph", "speed_kmh", "los", "stations")} == {
        k: b[k] for k in ("flow_vph", "speed_kmh", "los", "stations")
    }
