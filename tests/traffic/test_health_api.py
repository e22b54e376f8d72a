"""Detector health per detector per day (PeMS diagnostics) through the API, from readings
posted with the device API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from roadwatch.platform.auth import Role
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.support.waiting import eventually
from tests.traffic.state_city import MIN, build_corridor, send

DAY = 86_400_000
# midnight UTC three days back; the health window is 05:00-06:00 of that day (60 samples)
MIDNIGHT = (int(time.time() * 1000) // DAY - 3) * DAY
WINDOW = MIDNIGHT + 5 * 60 * MIN
DAY_NAME = datetime.fromtimestamp(MIDNIGHT / 1000, UTC).date().isoformat()


@pytest.fixture
async def short_window(backend: Backend) -> AsyncIterator[RunningApp]:
    settings = backend.settings(
        traffic={"timezone": "UTC", "health_day_start_h": 5, "health_day_end_h": 6}
    )
    async with run_app(settings) as running:
        yield running


async def test_each_detectors_day_is_diagnosed_as_pems_does(short_window: RunningApp) -> None:
    running = short_window
    admin = running.as_role(Role.ADMINISTRATOR)
    corridor = await build_corridor(running, admin)
    minutes = range(1, 61)
    # A: a healthy hour; B: half its samples (30 < 60 % of 60); C: occupancy 0 all hour
    await send(
        running,
        corridor,
        "A",
        [(WINDOW + m * MIN, {"count": 15 + m % 7, "occupancy": 8.0 + m % 5 / 10}) for m in minutes],
    )
    await send(
        running,
        corridor,
        "B",
        [(WINDOW + m * MIN, {"count": 15 + m % 7, "occupancy": 8.0}) for m in minutes if m % 2],
    )
    await send(
        running,
        corridor,
        "C",
        [(WINDOW + m * MIN, {"count": 15 + m % 7, "occupancy": 0.0}) for m in minutes],
    )
    reader = running.as_role(Role.AUDITOR)

    async def stored() -> bool:
        response = await running.client.get(
            "/api/v1/traffic/detectors/health", params={"day": DAY_NAME}, headers=reader
        )
        return sum(d["samples"] for d in response.json()) == 60 + 30 + 60

    await eventually(stored)
    response = await running.client.get(
        "/api/v1/traffic/detectors/health", params={"day": DAY_NAME}, headers=reader
    )
    assert response.status_code == 200
    by_device = {d["device_id"]: d for d in response.json()}
    a, b, c = (by_device[corridor.device_id(s)] for s in "ABC")
    assert (a["status"], a["healthy"], a["samples"], a["expected"]) == ("good", True, 60, 60)
    assert (b["status"], b["healthy"], b["samples"]) == ("insufficient_data", False, 30)
    assert c["status"] == "card_off"
    assert c["counts"]["zero_occupancy"] == 60
    assert c["segment_id"] == "C"

    one = await running.client.get(
        f"/api/v1/traffic/detectors/{corridor.device_id('A')}/health",
        params={"day": DAY_NAME},
        headers=reader,
    )
    assert one.status_code == 200
    assert one.json() == a

    # the day before: nothing was sent
    before = datetime.fromtimestamp((MIDNIGHT - DAY) / 1000, UTC).date().isoformat()
    response = await running.client.get(
        "/api/v1/traffic/detectors/health", params={"day": before}, headers=reader
    )
    assert {d["status"] for d in response.json()} == {"no_data"}


async def test_health_of_an_unknown_detector_or_a_malformed_day_is_a_clear_4xx(
    running: RunningApp,
) -> None:
    reader = running.as_role(Role.ANALYST)
    response = await running.client.get(
        "/api/v1/traffic/detectors/no-such-device/health", headers=reader
    )
    assert response.status_code == 404
    assert "no-such-device" in response.json()["detail"]
    response = await running.client.get(
        "/api/v1/traffic/detectors/health", params={"day": "yesterday"}, headers=reader
    )
    assert response.status_code == 422
    assert "day" in response.text
