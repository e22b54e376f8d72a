"""Incident detection in the live pipeline: 1-minute traffic state of a motorway stretch goes
through the bus; an incident between two stations becomes tentative, then confirmed
(`traffic.incident.detected`), then cleared (`traffic.incident.cleared`); dispatchers
dismiss false alarms; intervals are judged once and a restart continues where it stopped."""

from __future__ import annotations

from typing import Any

import pytest

from roadwatch.platform.auth import Role
from tests.factories.audit import until_recorded
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.traffic.detections_state import (
    MINUTE,
    T0,
    build_stretch,
    feed,
    interval,
    outbox_events,
)

DETECTIONS = "/api/v1/traffic/detections"

FREE = (10.0, 95.0)
# minute 2: a lane blocked between a1 and a2 (queue over a1, a2 starved and fast);
# minute 3: it persists; minutes 5-6: the lane is open again
INCIDENT = [
    interval(0, FREE, FREE),
    interval(1, FREE, FREE),
    interval(2, (25.0, 50.0), (8.0, 95.0)),
    interval(3, (30.0, 40.0), (6.0, 95.0)),
    interval(4, (32.0, 35.0), (5.0, 90.0)),
    interval(5, (12.0, 95.0), (11.0, 100.0)),
    interval(6, FREE, FREE),
]


async def detections(running: RunningApp, **params: Any) -> list[dict[str, Any]]:
    response = await running.client.get(
        DETECTIONS, params=params, headers=running.as_role(Role.PATROL_OFFICER)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def by_algorithm(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["algorithm"]: d for d in items}


async def test_an_incident_is_detected_confirmed_and_cleared(running: RunningApp) -> None:
    await build_stretch(running)
    await feed(running, *INCIDENT[:3])
    tentative = by_algorithm(await detections(running))
    assert {a: d["phase"] for a, d in tentative.items()} == {
        "california7": "tentative",
        "california8": "tentative",
        "speed_drop": "tentative",
    }

    await feed(running, INCIDENT[3])
    confirmed = by_algorithm(await detections(running, phase="confirmed"))
    assert set(confirmed) == {"california7", "california8"}
    c7 = confirmed["california7"]
    assert c7["pair_id"] == "a1>a2"
    # half-way between the stations at 200 m and 800 m of A
    assert c7["segment_id"] == "A" and c7["offset_m"] == 500
    assert c7["location"]["lon"] == pytest.approx(12.0067, abs=1e-4)
    assert c7["location"]["lat"] == pytest.approx(48.0)
    assert c7["onset_ts"] == T0 + 2 * MINUTE  # the start of minute 2
    assert c7["confirmed_ts"] == T0 + 4 * MINUTE  # the end of minute 3
    assert c7["evidence"]["occdf_pct"] == 24 and c7["evidence"]["docc_pct"] == 6
    assert c7["evidence"]["corroborating"] == ["california8"]
    assert c7["confidence"] == pytest.approx(0.9)
    # one incident, two algorithms: the later-confirmed detection names the first
    assert confirmed["california8"]["evidence"]["corroborates"] == c7["id"]
    assert "corroborates" not in c7["evidence"]

    detected = await outbox_events(running, "traffic.incident.detected")
    assert {e.payload["algorithm"] for e in detected} == {"california7", "california8"}
    event = next(e for e in detected if e.payload["algorithm"] == "california7")
    assert event.entity_id == c7["id"]
    assert {
        key: event.payload[key]
        for key in ("detection_id", "segment_id", "lanes", "detected_ts", "onset_ts")
    } == {
        "detection_id": c7["id"],
        "segment_id": "A",
        "lanes": None,
        "detected_ts": T0 + 4 * MINUTE,
        "onset_ts": T0 + 2 * MINUTE,
    }
    assert event.payload["location"] == c7["location"]
    assert event.payload["confidence"] == c7["confidence"]
    assert event.payload["evidence"] == c7["evidence"]

    await feed(running, *INCIDENT[4:])
    ended = by_algorithm(await detections(running))
    assert {a: d["phase"] for a, d in ended.items()} == {
        "california7": "cleared",
        "california8": "cleared",
        "speed_drop": "cleared",
    }
    assert ended["california7"]["cleared_ts"] == T0 + 6 * MINUTE
    # speed drop: slow upstream for minutes 2-4, confirmed at the third, clear after two
    assert ended["speed_drop"]["confirmed_ts"] == T0 + 5 * MINUTE
    assert ended["speed_drop"]["cleared_ts"] == T0 + 7 * MINUTE
    cleared = await outbox_events(running, "traffic.incident.cleared")
    assert sorted(e.payload["algorithm"] for e in cleared) == [
        "california7",
        "california8",
        "speed_drop",
    ]
    # a time window keeps the detections whose span overlaps it
    since = await detections(running, **{"from": T0 + 7 * MINUTE})
    assert [d["algorithm"] for d in since] == ["speed_drop"]
    assert await detections(running, to=T0 + 2 * MINUTE) == []
    assert len(await detections(running, to=T0 + 2 * MINUTE + 1)) == 3
    page = await running.client.get(
        DETECTIONS,
        params={"limit": 1, "sort": "-cleared_ts"},
        headers=running.as_role(Role.ANALYST),
    )
    assert page.json()["total"] == 3
    assert [d["algorithm"] for d in page.json()["items"]] == ["speed_drop"]
    # the audit trail has them too (it records every event)
    recorded = await until_recorded(
        running.client,
        running.as_role(Role.AUDITOR),
        3,
        type="traffic.incident.cleared",
    )
    assert {e["entity_id"] for e in recorded} == {d["id"] for d in ended.values()}


async def test_a_short_blip_is_dropped_and_never_announced(running: RunningApp) -> None:
    await build_stretch(running)
    await feed(
        running,
        interval(0, FREE, FREE),
        interval(1, (25.0, 95.0), (8.0, 95.0)),
        interval(2, FREE, FREE),
    )
    found = by_algorithm(await detections(running))
    assert {a: d["phase"] for a, d in found.items()} == {
        "california7": "dropped",
        "california8": "dropped",
    }
    assert await outbox_events(running, "traffic.incident.") == []
    assert len(await outbox_events(running, "traffic.detection.dropped")) == 2


async def test_an_interval_is_judged_once(running: RunningApp) -> None:
    await build_stretch(running)
    await feed(running, *INCIDENT[:3])
    # minute 2 republished (late data changed it) with incident-free values: already judged
    await feed(running, interval(2, FREE, FREE))
    # and an older one arriving late
    await feed(running, interval(1, (40.0, 20.0), (5.0, 95.0)))
    await feed(running, INCIDENT[3])
    assert {d["algorithm"] for d in await detections(running, phase="confirmed")} == {
        "california7",
        "california8",
    }
    assert len(await detections(running)) == 3


async def test_five_minute_state_is_not_judged(running: RunningApp) -> None:
    await build_stretch(running)
    await feed(
        running,
        interval(0, FREE, FREE, interval_s=300),
        interval(5, (40.0, 20.0), (5.0, 95.0), interval_s=300),
        interval(10, (40.0, 20.0), (5.0, 95.0), interval_s=300),
    )
    assert await detections(running) == []


async def test_missing_readings_hold_the_detection(running: RunningApp) -> None:
    await build_stretch(running)
    await feed(running, *INCIDENT[:3])
    # a1 silent for a minute: nothing confirmed, nothing dropped
    await feed(running, interval(3, (None, None), (6.0, 95.0)))
    assert {d["phase"] for d in await detections(running, algorithm="california7")} == {"tentative"}
    # a2 judged unhealthy by the state pipeline: its (imputed) values are not used either
    unhealthy = interval(4, (30.0, 40.0), (6.0, 95.0))
    unhealthy["segments"][0]["stations"][1]["imputed"] = True
    await feed(running, unhealthy)
    assert {d["phase"] for d in await detections(running, algorithm="california7")} == {"tentative"}
    await feed(running, interval(5, (30.0, 40.0), (6.0, 95.0)))
    assert {d["phase"] for d in await detections(running, algorithm="california7")} == {"confirmed"}


async def test_detection_continues_across_a_restart(backend: Backend) -> None:
    async with run_app(backend.settings()) as first:
        await build_stretch(first)
        await feed(first, *INCIDENT[:3])
    async with run_app(backend.settings()) as second:
        await feed(second, INCIDENT[3])
        confirmed = await detections(second, phase="confirmed")
        assert {d["algorithm"] for d in confirmed} == {"california7", "california8"}
        assert all(d["onset_ts"] == T0 + 2 * MINUTE for d in confirmed)


async def test_a_dispatcher_dismisses_a_false_alarm(running: RunningApp) -> None:
    await build_stretch(running)
    await feed(running, *INCIDENT[:4])
    c7 = by_algorithm(await detections(running, phase="confirmed"))["california7"]
    url = f"{DETECTIONS}/{c7['id']}/dismiss"

    analyst = await running.client.post(url, headers=running.as_role(Role.ANALYST))
    assert analyst.status_code == 403

    response = await running.client.post(
        url,
        json={"reason": "stalled vehicle on the shoulder"},
        headers=running.as_role(Role.DISPATCHER),
    )
    assert response.status_code == 200, response.text
    dismissed = response.json()
    assert dismissed["phase"] == "dismissed"
    assert dismissed["dismissed_by"] == f"user:test-{Role.DISPATCHER.value}"
    assert dismissed["dismissed_reason"] == "stalled vehicle on the shoulder"
    events = await outbox_events(running, "traffic.detection.dismissed")
    assert [e.entity_id for e in events] == [c7["id"]]

    again = await running.client.post(url, headers=running.as_role(Role.DISPATCHER))
    assert again.status_code == 409
    assert "dismissed detection cannot be dismissed" in again.json()["detail"]

    # the episode goes on for the algorithm: it ends without a clearing event for it, and
    # the dismissed detection stays dismissed
    await feed(running, *INCIDENT[4:])
    assert (
        await running.client.get(
            f"{DETECTIONS}/{c7['id']}", headers=running.as_role(Role.DISPATCHER)
        )
    ).json()["phase"] == "dismissed"
    cleared = await outbox_events(running, "traffic.incident.cleared")
    assert c7["id"] not in {e.entity_id for e in cleared}


async def test_unknown_and_bad_requests_are_named(running: RunningApp) -> None:
    headers = running.as_role(Role.DISPATCHER)
    missing = await running.client.get(f"{DETECTIONS}/nope", headers=headers)
    assert missing.status_code == 404
    assert (
        await running.client.post(f"{DETECTIONS}/nope/dismiss", headers=headers)
    ).status_code == 404
    bad_algorithm = await running.client.get(
        DETECTIONS, params={"algorithm": "magic"}, headers=headers
    )
    assert bad_algorithm.status_code == 422
    assert "algorithm: unknown magic" in bad_algorithm.json()["detail"]
    backwards = await running.client.get(DETECTIONS, params={"from": 10, "to": 5}, headers=headers)
    assert backwards.status_code == 422
    assert "to: must be after from" in backwards.json()["detail"]
    bad_phase = await running.client.get(DETECTIONS, params={"phase": "open"}, headers=headers)
    assert bad_phase.status_code == 422
    bad_sort = await running.client.get(DETECTIONS, params={"sort": "colour"}, headers=headers)
    assert bad_sort.status_code == 422
