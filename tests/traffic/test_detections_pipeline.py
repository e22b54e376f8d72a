"""End to end: three loop stations on a motorway post their readings with the device API;
the state pipeline computes each minute, incident detection judges it, and a lane blocked
between two stations is confirmed, announced and cleared."""

from __future__ import annotations

import time
from typing import Any

from roadwatch.platform.auth import Role
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually
from tests.traffic.detections_state import build_stretch, outbox_events

MIN = 60_000
HOUR = 3_600_000
# whole hours a day back: inside telemetry's accepted range
START = (int(time.time() * 1000) // HOUR - 24) * HOUR


def reading(minute: int, occupancy: float, speed: float, count: int = 30) -> dict[str, Any]:
    # counts alternate by one vehicle: a detector repeating itself exactly reads as stuck
    return {"count": count + minute % 2, "occupancy": occupancy, "speed": speed}


def minute_of(minute: int) -> dict[str, dict[str, Any]]:
    """Readings of a1, a2 (on A) and b1 (on B) for a minute: a lane blocked between a1 and
    a2 in minutes 4-6, so a1 sits in the queue and a2 gets a thin, fast stream."""
    if 4 <= minute <= 6:
        return {
            "a1": reading(minute, 32.0, 25.0, count=18),
            "a2": reading(minute, 5.0, 100.0, count=12),
            "b1": reading(minute, 6.0, 100.0, count=12),
        }
    return {
        "a1": reading(minute, 10.0, 95.0),
        "a2": reading(minute, 10.0, 95.0),
        "b1": reading(minute, 10.0, 95.0),
    }


async def test_a_blocked_lane_is_detected_from_device_telemetry(running: RunningApp) -> None:
    admin = running.as_role(Role.ADMINISTRATOR)
    await build_stretch(running)
    devices = {name: await create_device(running.client, admin) for name in ("a1", "a2", "b1")}
    for name, (segment_id, offset) in {
        "a1": ("A", 200),
        "a2": ("A", 800),
        "b1": ("B", 500),
    }.items():
        placed = await running.client.put(
            f"/api/v1/traffic/detectors/{devices[name]['id']}",
            json={"segment_id": segment_id, "offset_m": offset, "kind": "dual_loop"},
            headers=admin,
        )
        assert placed.status_code == 201, placed.text
    for minute in range(1, 13):
        for name, values in minute_of(minute).items():
            token = devices[name]["access_token"]
            body = [{"ts": START + minute * MIN, "values": values}]
            response = await running.client.post(f"/api/v1/{token}/telemetry", json=body)
            assert response.status_code == 200, response.text

    pair = f"{devices['a1']['id']}>{devices['a2']['id']}"

    async def c7() -> dict[str, Any] | None:
        response = await running.client.get(
            "/api/v1/traffic/detections",
            params={"algorithm": "california7"},
            headers=running.as_role(Role.DISPATCHER),
        )
        items = response.json()["items"]
        return items[0] if items else None

    async def cleared() -> bool:
        found = await c7()
        return found is not None and found["phase"] == "cleared"

    await eventually(cleared, timeout_s=30)
    detection = await c7()
    assert detection is not None
    assert detection["pair_id"] == pair and detection["segment_id"] == "A"
    # the readings stamped minute 4 (the interval ending then) first show it
    assert detection["onset_ts"] == START + 3 * MIN
    assert detection["confirmed_ts"] == START + 5 * MIN
    assert detection["cleared_ts"] == START + 7 * MIN
    detected = [
        e
        for e in await outbox_events(running, "traffic.incident.detected")
        if e.entity_id == detection["id"]
    ]
    assert len(detected) == 1 and detected[0].payload["detected_ts"] == START + 5 * MIN
