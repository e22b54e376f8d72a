"""The device status board, a read model kept from devices and telemetry events, rebuilt
from the event store alone by `roadwatch audit rebuild device-board`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.factories import devices
from tests.factories.audit import AUDIT, until_recorded
from tests.fixtures.app import RunningApp
from tests.fixtures.backends import Backend
from tests.support.cli import roadwatch
from tests.support.waiting import eventually


async def board(running: RunningApp, reader: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = await running.client.get(
        f"{AUDIT}/device-board", params={"limit": 1000}, headers=reader
    )
    assert response.status_code == 200, response.text
    return {row["device_id"]: row for row in response.json()["items"]}


async def test_the_board_follows_the_registry_and_is_rebuilt_from_the_store(
    backend: Backend,
    audited: RunningApp,
    administrator: dict[str, str],
    auditor: dict[str, str],
) -> None:
    client = audited.client
    made = [await devices.create_device(client, administrator) for _ in range(3)]
    renamed = await client.patch(
        f"/api/v1/devices/{made[0]['id']}", json={"label": "north gantry"}, headers=administrator
    )
    assert renamed.status_code == 200, renamed.text
    gone = await client.delete(f"/api/v1/devices/{made[1]['id']}", headers=administrator)
    assert gone.status_code == 204, gone.text
    revoked = await client.delete(
        f"/api/v1/devices/{made[2]['id']}/credentials", headers=administrator
    )
    assert revoked.status_code == 204, revoked.text
    sent = await client.post(f"/api/v1/{made[0]['access_token']}/telemetry", json={"speed": 48})
    assert sent.status_code == 200, sent.text
    await until_recorded(
        client, auditor, 1, type="telemetry.device.status_changed", entity_id=made[0]["id"]
    )

    async def settled() -> bool:
        rows = await board(audited, auditor)
        return (
            rows.get(made[0]["id"], {}).get("online") is True
            and rows.get(made[2]["id"], {}).get("has_credentials") is False
        )

    await eventually(settled)
    before = await board(audited, auditor)
    registry = (
        await client.get("/api/v1/devices", params={"limit": 1000}, headers=administrator)
    ).json()["items"]
    active = {d["id"]: d for d in registry}
    for device in made:
        row = before[device["id"]]
        assert row["active"] is (device["id"] in active)
        if row["active"]:
            shown = active[device["id"]]
            assert (row["name"], row["label"], row["type"], row["has_credentials"]) == (
                shown["name"],
                shown["label"],
                shown["type"],
                shown["has_credentials"],
            )
    assert before[made[0]["id"]]["label"] == "north gantry"
    assert before[made[0]["id"]]["last_activity_ts"] is not None
    assert [before[d["id"]]["online"] for d in made] == [True, False, False]

    # the read model is lost; the event store still has everything to make it again
    engine = create_async_engine(backend.database_url)
    try:
        async with engine.begin() as db:
            await db.execute(text("DELETE FROM audit_device_board"))
    finally:
        await engine.dispose()
    assert await board(audited, auditor) == {}
    rebuilt = roadwatch("audit", "rebuild", "device-board", env=backend.env())
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.startswith("device-board rebuilt from the event store")
    assert await board(audited, auditor) == before
