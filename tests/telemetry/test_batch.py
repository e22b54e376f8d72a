"""The batch endpoint: many devices in one request, JSON or MessagePack, all or nothing."""

from __future__ import annotations

import msgpack
from sqlalchemy import func, select

from roadwatch.platform.auth import Role
from roadwatch.telemetry.models import TsPoint
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp

TS = 1_700_000_000_000


async def count(running: RunningApp, device_id: str) -> int:
    async with running.platform.db.session() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(TsPoint).where(TsPoint.device_id == device_id)
            )
            or 0
        )


async def test_many_devices_in_one_json_or_msgpack_request(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    a = await create_device(client, admin)
    b = await create_device(client, admin)
    batch = {
        a["id"]: [{"ts": TS + i, "values": {"flow": i}} for i in range(300)],
        b["id"]: {"ts": TS, "values": {"speed": 61.5, "wet": False}},
    }
    stored = await client.post("/api/v1/telemetry/batch", json=batch, headers=admin)
    assert stored.status_code == 200, stored.text
    assert stored.json() == {"devices": 2, "points": 302}

    packed = await client.post(
        "/api/v1/telemetry/batch",
        content=msgpack.packb({a["id"]: [{"ts": TS + 1000, "values": {"flow": 7}}]}),
        headers={**admin, "content-type": "application/msgpack"},
    )
    assert packed.status_code == 200, packed.text
    assert (await count(running, a["id"]), await count(running, b["id"])) == (301, 2)

    latest = await client.get(f"/api/v1/telemetry/{a['id']}/latest", headers=admin)
    assert latest.json()["flow"] == {"ts": TS + 1000, "value": 7}


async def test_a_batch_with_any_problem_stores_nothing_and_lists_every_problem(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    good = await create_device(client, admin)
    bad = await create_device(client, admin)
    response = await client.post(
        "/api/v1/telemetry/batch",
        json={
            good["id"]: {"flow": 1},
            bad["id"]: {"ts": "soon", "values": {"flow": 2}},
            "no-such-device": {"flow": 3},
        },
        headers=admin,
    )
    assert response.status_code == 422
    problem = response.json()
    assert {e["field"] for e in problem["errors"]} == {bad["id"], "no-such-device"}
    assert "must be an integer" in str(problem["errors"])
    assert await count(running, good["id"]) == 0

    garbled = await client.post(
        "/api/v1/telemetry/batch",
        content=b"\xc1\xc1",
        headers={**admin, "content-type": "application/msgpack"},
    )
    assert garbled.status_code == 422
    assert garbled.json()["field"] == "body"


async def test_integrations_need_telemetry_write(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    device = await create_device(client, admin)
    body = {device["id"]: {"flow": 1}}
    analyst = await client.post(
        "/api/v1/telemetry/batch", json=body, headers=running.as_role(Role.ANALYST)
    )
    assert analyst.status_code == 403
    key = await client.post(
        "/api/v1/api-keys",
        json={"name": "site gateway", "scopes": ["telemetry:write"]},
        headers=admin,
    )
    gateway = {"X-API-Key": key.json()["key"]}
    assert (
        await client.post("/api/v1/telemetry/batch", json=body, headers=gateway)
    ).status_code == 200
