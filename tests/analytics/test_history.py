"""Historical analytics over what devices sent: series from rollups or raw points as the
range allows, percentiles, top devices, two periods, fleet summaries; cached until new data
for the device arrives."""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx
import numpy as np
import pytest

from roadwatch.platform.auth import Role
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually

HOUR = 3_600_000
START = (int(time.time() * 1000) // HOUR - 10) * HOUR
API = "/api/v1/analytics"


async def send(client: httpx.AsyncClient, token: str, points: list[tuple[int, float]]) -> None:
    body = [{"ts": ts, "values": {"speed": v}} for ts, v in points]
    response = await client.post(f"/api/v1/{token}/telemetry", json=body)
    assert response.status_code == 200, response.text


async def get(running: RunningApp, path: str, **params: Any) -> httpx.Response:
    return await running.client.get(
        f"{API}{path}", params=params, headers=running.as_role(Role.ANALYST)
    )


def readings(offset: float, hours: int = 4) -> list[tuple[int, float]]:
    # one every 5 minutes for `hours` hours, a different level each hour
    return [(START + i * 300_000, offset + (i // 12) * 10 + i % 3) for i in range(hours * 12)]


async def until_counted(running: RunningApp, device_id: str, count: int) -> None:
    async def counted() -> bool:
        response = await get(
            running,
            f"/series/{device_id}",
            key="speed",
            startTs=START,
            endTs=START + 4 * HOUR,
            interval=4 * HOUR,
            agg="COUNT",
        )
        points = response.json()["points"]
        return bool(points) and points[0]["value"] == count

    await eventually(counted)


async def test_a_series_reads_rollups_when_they_tile_the_range_and_raw_points_otherwise(
    running: RunningApp, admin: dict[str, str]
) -> None:
    device = await create_device(running.client, admin)
    sent = readings(50)
    await send(running.client, device["access_token"], sent)
    await until_counted(running, device["id"], len(sent))

    hourly = await get(
        running,
        f"/series/{device['id']}",
        key="speed",
        startTs=START,
        endTs=START + 4 * HOUR,
        interval=HOUR,
        agg="AVG",
    )
    assert hourly.status_code == 200, hourly.text
    assert hourly.json()["source"] == "rollup:1h"
    want = [
        {
            "ts": START + h * HOUR,
            "value": statistics.fmean(
                v for ts, v in sent if START + h * HOUR <= ts < START + (h + 1) * HOUR
            ),
        }
        for h in range(4)
    ]
    got = hourly.json()["points"]
    assert [p["ts"] for p in got] == [p["ts"] for p in want]
    assert [p["value"] for p in got] == pytest.approx([p["value"] for p in want])

    two_hours = await get(
        running,
        f"/series/{device['id']}",
        key="speed",
        startTs=START,
        endTs=START + 4 * HOUR,
        interval=2 * HOUR,
        agg="MAX",
    )
    assert two_hours.json()["source"] == "rollup:1h"
    assert [p["value"] for p in two_hours.json()["points"]] == [62.0, 82.0]

    # an edge inside a minute: only raw points can answer exactly
    odd = await get(
        running,
        f"/series/{device['id']}",
        key="speed",
        startTs=START + 1,
        endTs=START + HOUR,
        interval=900_000,
        agg="COUNT",
    )
    assert odd.json()["source"] == "raw"
    # buckets start at startTs: [+1 ms, +15 min + 1 ms) holds the readings at 5, 10, 15 min
    assert [p["value"] for p in odd.json()["points"]] == [3.0, 3.0, 3.0, 2.0]
    assert odd.json()["points"][0]["ts"] == START + 1

    percentiles = await get(
        running,
        f"/percentiles/{device['id']}",
        key="speed",
        startTs=START,
        endTs=START + 4 * HOUR,
        p="50,90",
    )
    values = [v for _, v in sent]
    assert percentiles.json() == {
        "count": len(sent),
        "percentiles": {
            "50": pytest.approx(float(np.percentile(values, 50))),
            "90": pytest.approx(float(np.percentile(values, 90))),
        },
    }


async def test_cached_answers_give_way_to_new_data(
    running: RunningApp, admin: dict[str, str]
) -> None:
    device = await create_device(running.client, admin)
    sent = readings(10, hours=1)
    await send(running.client, device["access_token"], sent)
    await until_counted(running, device["id"], len(sent))
    params = {
        "key": "speed",
        "startTs": START,
        "endTs": START + HOUR,
        "interval": HOUR,
        "agg": "SUM",
    }
    first = await get(running, f"/series/{device['id']}", **params)
    again = await get(running, f"/series/{device['id']}", **params)
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("miss", "hit")
    assert again.json() == first.json()

    # a late point inside the cached range
    await send(running.client, device["access_token"], [(START + 1234, 1000.0)])

    async def refreshed() -> bool:
        now = await get(running, f"/series/{device['id']}", **params)
        return bool(now.json()["points"][0]["value"] == first.json()["points"][0]["value"] + 1000)

    await eventually(refreshed)


async def test_top_devices_periods_and_fleet_summaries(
    running: RunningApp, admin: dict[str, str]
) -> None:
    slow = await create_device(running.client, admin, type="speed_sensor")
    fast = await create_device(running.client, admin, type="speed_sensor")
    loop = await create_device(running.client, admin, type="induction_loop")
    for device, offset in ((slow, 20), (fast, 90), (loop, 50)):
        await send(running.client, device["access_token"], readings(offset))
    for device in (slow, fast, loop):
        await until_counted(running, device["id"], 48)
    window = {"key": "speed", "startTs": START, "endTs": START + 4 * HOUR}

    top = await get(running, "/top", stat="mean", n=2, **window)
    assert top.status_code == 200, top.text
    assert [d["device_id"] for d in top.json()][:2] == [fast["id"], loop["id"]]
    lowest = await get(running, "/top", stat="max", n=1, order="asc", **window)
    assert lowest.json()[0]["device_id"] == slow["id"]
    assert lowest.json()[0]["max"] == 20 + 30 + 2

    compared = await get(
        running,
        f"/compare/{fast['id']}",
        key="speed",
        aStart=START,
        aEnd=START + HOUR,
        bStart=START + 3 * HOUR,
        bEnd=START + 4 * HOUR,
    )
    body = compared.json()
    assert body["a"]["mean"] == pytest.approx(91.0)
    assert body["b"]["mean"] == pytest.approx(121.0)
    assert body["change"]["mean"] == pytest.approx(30.0)
    assert body["a"]["stddev"] == pytest.approx(float(np.std([0, 1, 2] * 4)))

    fleet = await get(running, "/fleet", **window)
    groups = {g["profile"]: g for g in fleet.json()}
    assert groups["type:speed_sensor"]["devices"] >= 2
    assert groups["type:induction_loop"]["devices"] >= 1


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/series/d", {"key": "speed", "startTs": 10, "endTs": 5}, "endTs"),
        ("/series/d", {"key": "speed", "startTs": 0, "endTs": 10**12, "interval": 1}, "interval"),
        ("/series/d", {"key": "speed", "startTs": 0, "endTs": 5, "agg": "MEDIAN"}, "agg"),
        ("/percentiles/d", {"key": "speed", "startTs": 0, "endTs": 5, "p": "50,x"}, "p"),
        ("/percentiles/d", {"key": "speed", "startTs": 0, "endTs": 5, "p": "120"}, "p"),
        ("/top", {"key": "speed", "startTs": 1, "endTs": HOUR}, "startTs"),
        ("/top", {"key": "speed", "startTs": 0, "endTs": HOUR, "stat": "median"}, "stat"),
    ],
)
async def test_a_wrong_query_is_refused_naming_the_parameter(
    running: RunningApp, path: str, params: dict[str, Any], field: str
) -> None:
    response = await get(running, path, **params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(field)


async def test_history_needs_analytics_read(running: RunningApp) -> None:
    response = await running.client.get(
        f"{API}/fleet",
        params={"key": "speed", "startTs": 0, "endTs": HOUR},
        headers=running.as_role(Role.PATROL_OFFICER),
    )
    assert response.status_code == 403
