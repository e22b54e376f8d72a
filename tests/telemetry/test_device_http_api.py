"""The ThingsBoard-compatible device HTTP API: what devices send, and what they are told."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from roadwatch.telemetry.models import LatestValue, TsPoint
from roadwatch.telemetry.store import value_of
from tests.factories.devices import create_device, until_token_accepted
from tests.fixtures.app import RunningApp
from tests.support.waiting import eventually

NOW_MS = int(time.time() * 1000)


async def stored(running: RunningApp, device_id: str) -> list[tuple[str, int, Any]]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(
            select(TsPoint).where(TsPoint.device_id == device_id).order_by(TsPoint.key, TsPoint.ts)
        )
        return [(r.key, r.ts, value_of(r)) for r in rows]


async def latest(running: RunningApp, device_id: str) -> dict[str, tuple[int, Any]]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(select(LatestValue).where(LatestValue.device_id == device_id))
        return {r.key: (r.ts, value_of(r)) for r in rows}


async def batch_events(running: RunningApp, device_id: str) -> list[Event]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.type == "telemetry.batch_ingested")
        )
        events = [Event.from_json(r.body) for r in rows]
    return [e for e in events if e.entity_id == device_id]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"speed": 54.5, "count": 12}, [("count", None, 12), ("speed", None, 54.5)]),
        (
            {"ts": NOW_MS - 1000, "values": {"occupancy": 0.31}},
            [("occupancy", NOW_MS - 1000, 0.31)],
        ),
        (
            [
                {"ts": NOW_MS - 2000, "values": {"speed": 50}},
                {"ts": NOW_MS - 1000, "values": {"speed": 51}},
            ],
            [("speed", NOW_MS - 2000, 50), ("speed", NOW_MS - 1000, 51)],
        ),
        (
            [{"wet": True}, {"ts": NOW_MS - 5, "values": {"plate": "A123BC"}}],
            [("plate", NOW_MS - 5, "A123BC"), ("wet", None, True)],
        ),
        ({"lanes": {"1": 20, "2": 31}}, [("lanes", None, {"1": 20, "2": 31})]),
    ],
    ids=["key-values", "ts-values", "array-of-ts-values", "array-of-both", "json-value"],
)
async def test_each_payload_shape_is_stored(
    running: RunningApp,
    admin: dict[str, str],
    payload: Any,
    expected: list[tuple[str, int | None, Any]],
) -> None:
    device = await create_device(running.client, admin)
    before = int(time.time() * 1000)
    response = await running.client.post(
        f"/api/v1/{device['access_token']}/telemetry", json=payload
    )
    assert response.status_code == 200, response.text

    points = await stored(running, device["id"])
    assert [(k, v) for k, _, v in points] == [(k, v) for k, _, v in expected]
    for (_, ts, _), (_, want_ts, _) in zip(points, expected, strict=True):
        # points without their own ts are stamped with the time they arrived
        assert ts == want_ts if want_ts is not None else before <= ts <= before + 5000
    # the value keeps its kind: an integer stays an integer, a flag a flag
    assert [type(v) for _, _, v in points] == [type(v) for _, _, v in expected]


async def test_a_resent_point_is_stored_once_and_latest_keeps_the_newest(
    running: RunningApp, admin: dict[str, str]
) -> None:
    device = await create_device(running.client, admin)
    url = f"/api/v1/{device['access_token']}/telemetry"
    newer = {"ts": NOW_MS, "values": {"speed": 60}}
    older = {"ts": NOW_MS - 60_000, "values": {"speed": 40}}
    for payload in (newer, newer, older):
        assert (await running.client.post(url, json=payload)).status_code == 200

    assert await stored(running, device["id"]) == [
        ("speed", NOW_MS - 60_000, 40),
        ("speed", NOW_MS, 60),
    ]
    # a late, older point does not replace the latest value
    assert await latest(running, device["id"]) == {"speed": (NOW_MS, 60)}


async def test_each_batch_is_one_event_carrying_its_points(
    running: RunningApp, admin: dict[str, str]
) -> None:
    device = await create_device(running.client, admin)
    payload = [{"ts": NOW_MS - i, "values": {"speed": i, "count": i * 2}} for i in range(50)]
    response = await running.client.post(
        f"/api/v1/{device['access_token']}/telemetry", json=payload
    )
    assert response.status_code == 200
    (event,) = await batch_events(running, device["id"])
    assert event.payload["count"] == 100
    assert event.payload["min_ts"] == NOW_MS - 49
    assert [NOW_MS - 3, 3] in [[p[1], p[2]] for p in event.payload["points"] if p[0] == "speed"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "malformed JSON"),
        (b"[]", "empty list"),
        (b"{}", "non-empty object"),
        (b"42", "non-empty object"),
        (b'{"speed": null}', "body.speed: null"),
        (b'{"ts": "yesterday", "values": {"speed": 1}}', "body.ts: must be an integer"),
        (b'{"ts": 1, "values": []}', "body.values: expected a non-empty object"),
        (b'[{"speed": 1}, {"ts": 99999999999999, "values": {"speed": 2}}]', "[1].values.ts"),
        (b'{"speed": 1e999}', "malformed JSON"),
    ],
    ids=[
        "malformed",
        "empty-list",
        "empty-object",
        "scalar",
        "null",
        "ts-type",
        "values-type",
        "future-ts",
        "overflow-float",
    ],
)
async def test_a_bad_payload_is_400_naming_the_problem_and_nothing_is_stored(
    running: RunningApp, admin: dict[str, str], body: bytes, fragment: str
) -> None:
    device = await create_device(running.client, admin)
    response = await running.client.post(
        f"/api/v1/{device['access_token']}/telemetry",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert fragment in response.json()["detail"]
    assert await stored(running, device["id"]) == []


async def test_an_unknown_or_revoked_token_is_401(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    unknown = await client.post("/api/v1/no-such-token/telemetry", json={"speed": 1})
    assert unknown.status_code == 401

    device = await create_device(client, admin)
    old_token = device["access_token"]
    rotated = await client.post(
        f"/api/v1/devices/{device['id']}/credentials",
        json={"access_token": "LOOP_17_TOKEN"},
        headers=admin,
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["access_token"] == "LOOP_17_TOKEN"
    await until_token_accepted(client, "LOOP_17_TOKEN")
    assert (await client.post(f"/api/v1/{old_token}/telemetry", json={"x": 1})).status_code == 401
    assert (await client.post("/api/v1/LOOP_17_TOKEN/telemetry", json={"x": 1})).status_code == 200

    assert (
        await client.delete(f"/api/v1/devices/{device['id']}/credentials", headers=admin)
    ).status_code == 204
    fetched = await client.get(f"/api/v1/devices/{device['id']}", headers=admin)
    assert fetched.json()["has_credentials"] is False

    async def refused() -> bool:
        answer = await client.post("/api/v1/LOOP_17_TOKEN/telemetry", json={"x": 1})
        return answer.status_code == 401

    await eventually(refused, timeout_s=10)


async def test_a_token_belongs_to_one_device(running: RunningApp, admin: dict[str, str]) -> None:
    await create_device(running.client, admin, access_token="SHARED-1")
    clash = await running.client.post(
        "/api/v1/devices", json={"name": "other", "access_token": "SHARED-1"}, headers=admin
    )
    assert clash.status_code == 409
    assert clash.json()["field"] == "access_token"
    bad = await running.client.post(
        "/api/v1/devices", json={"name": "other", "access_token": "has space"}, headers=admin
    )
    assert bad.status_code == 422


async def test_an_oversized_body_is_413(running: RunningApp, admin: dict[str, str]) -> None:
    device = await create_device(running.client, admin)
    big = b'{"blob": "' + b"x" * (1024 * 1024) + b'"}'
    response = await running.client.post(
        f"/api/v1/{device['access_token']}/telemetry",
        content=big,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert await stored(running, device["id"]) == []
