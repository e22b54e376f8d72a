"""Rollups kept from telemetry that devices send: equal to a brute-force recomputation from
the raw points, whatever the order, lateness and repetition of the batches, and equal bit
for bit to a rebuild from the stored points."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from roadwatch.analytics.models import Rollup
from roadwatch.analytics.service.rebuild import rebuild
from roadwatch.platform.auth import Role
from tests.analytics.brute import WIDTHS, assert_bucket_equal, brute_rollups
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually

HOUR = 3_600_000
# whole hours, a day back: inside telemetry's accepted range, clear of "now"
START = (int(time.time() * 1000) // HOUR - 24) * HOUR
KEYS = ("flow", "speed")
ROLLUP_COLUMNS = (
    "key",
    "resolution_s",
    "bucket_ts",
    "count",
    "sum",
    "min",
    "max",
    "m2",
    "first_ts",
    "first",
    "last_ts",
    "last",
)


async def send(client: httpx.AsyncClient, token: str, batch: list[tuple[str, int, Any]]) -> None:
    body = [{"ts": ts, "values": {key: value}} for key, ts, value in batch]
    response = await client.post(f"/api/v1/{token}/telemetry", json=body)
    assert response.status_code == 200, response.text


async def rollups(
    running: RunningApp, device_id: str, key: str, resolution: str
) -> dict[int, dict[str, Any]]:
    response = await running.client.get(
        f"/api/v1/analytics/rollups/{device_id}",
        params={"key": key, "resolution": resolution, "startTs": START, "endTs": START + 4 * HOUR},
        headers=running.as_role(Role.ANALYST),
    )
    assert response.status_code == 200, response.text
    return {b["ts"]: b for b in response.json()}


def random_batches(
    rnd: random.Random,
) -> tuple[list[list[tuple[str, int, Any]]], dict[tuple[str, int], float]]:
    """Batches to send in this order, and the points as stored after all of them."""
    points = [
        (
            rnd.choice(KEYS),
            START + rnd.randrange(3 * HOUR),
            rnd.choice([rnd.randint(0, 90), rnd.uniform(-5, 120)]),
        )
        for _ in range(rnd.randint(50, 250))
    ]
    rnd.shuffle(points)
    batches: list[list[tuple[str, int, Any]]] = []
    while points:
        size = rnd.randint(1, 30)
        batches.append(points[:size])
        points = points[size:]
    sent: list[list[tuple[str, int, Any]]] = []
    for batch in batches:
        sent.append(batch)
        roll = rnd.random()
        if roll < 0.25:
            # re-sent as it was (a lost acknowledgement)
            sent.append(list(batch))
        elif roll < 0.35:
            # re-sent with some values changed: storage keeps the last
            sent.append([(k, ts, v + 1.5 if rnd.random() < 0.5 else v) for k, ts, v in batch])
        elif roll < 0.45:
            # with a string beside it, which is stored but not rolled up
            sent.append([("plate", batch[0][1], "AB123")])
    rnd.shuffle(sent[len(sent) // 2 :])
    stored: dict[tuple[str, int], float] = {}
    for batch in sent:
        for key, ts, value in batch:
            if not isinstance(value, str):
                stored[(key, ts)] = float(value)
    return sent, stored


@pytest.mark.parametrize("seed", [1, 2])
async def test_streamed_rollups_equal_brute_force_and_a_rebuild(
    running: RunningApp, admin: dict[str, str], seed: int
) -> None:
    device = await create_device(running.client, admin)
    sent, stored = random_batches(random.Random(seed))
    for batch in sent:
        await send(running.client, device["access_token"], batch)

    want_count = {key: sum(1 for k, _ in stored if k == key) for key in KEYS}

    async def all_folded() -> bool:
        for key in KEYS:
            hours = await rollups(running, device["id"], key, "1h")
            if sum(b["count"] for b in hours.values()) != want_count[key]:
                return False
        return True

    await eventually(all_folded)
    for key in KEYS:
        for resolution, width in WIDTHS.items():
            got = await rollups(running, device["id"], key, resolution)
            want = {b: v for (k, b), v in brute_rollups(stored, width).items() if k == key}
            assert got.keys() == want.keys(), (key, resolution)
            for bucket, expected in want.items():
                assert_bucket_equal(got[bucket], expected, (key, resolution, bucket))

    streamed = await stored_rollups(running, device["id"])
    done = await rebuild(running.platform.db, START, START + 3 * HOUR)
    assert done.points >= len(stored)
    assert await stored_rollups(running, device["id"]) == streamed


async def stored_rollups(running: RunningApp, device_id: str) -> list[tuple[Any, ...]]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(
            select(Rollup)
            .where(Rollup.device_id == device_id)
            .order_by(Rollup.key, Rollup.resolution_s, Rollup.bucket_ts)
        )
        return [tuple(getattr(r, name) for name in ROLLUP_COLUMNS) for r in rows]


async def test_a_rollup_query_names_what_is_wrong(running: RunningApp) -> None:
    response = await running.client.get(
        "/api/v1/analytics/rollups/any-device",
        params={"key": "speed", "resolution": "1m", "startTs": 0, "endTs": 400 * 86_400_000},
        headers=running.as_role(Role.ANALYST),
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "endTs" in response.json()["detail"]
    response = await running.client.get(
        "/api/v1/analytics/rollups/any-device",
        params={"key": "speed", "resolution": "2m", "startTs": 0, "endTs": 1},
        headers=running.as_role(Role.ANALYST),
    )
    assert response.status_code == 422
    assert "resolution" in response.json()["detail"]
