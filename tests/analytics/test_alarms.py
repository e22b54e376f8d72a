"""Alarms raised by rules from telemetry that devices send, and their lifecycle through the
API: acknowledged, cleared (by the condition ending or by a person), assigned, commented;
each transition an event carrying the alarm's full state."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from roadwatch.platform.auth import Role
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from tests.factories.audit import audit_state
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.support.waiting import eventually

ALARMS = "/api/v1/analytics/alarms"
RULES = "/api/v1/analytics/rules"


class Clock:
    """Device time: each reading a second after the last, so batches follow each other."""

    def __init__(self) -> None:
        self.ts = int(time.time() * 1000) - 3_600_000

    def next(self) -> int:
        self.ts += 1000
        return self.ts


async def send(client: httpx.AsyncClient, token: str, clock: Clock, **values: Any) -> None:
    response = await client.post(
        f"/api/v1/{token}/telemetry", json={"ts": clock.next(), "values": values}
    )
    assert response.status_code == 200, response.text


async def speed_rule(running: RunningApp, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Speeding",
        "scope": "device",
        "key": "speed",
        "kind": "threshold",
        "params": {"operator": "above", "threshold": 100, "hysteresis": 10},
        "severity": "MAJOR",
        **fields,
    }
    response = await running.client.post(RULES, json=body, headers=admin)
    assert response.status_code == 201, response.text
    rule: dict[str, Any] = response.json()
    return rule


async def alarms_of(running: RunningApp, device_id: str) -> list[dict[str, Any]]:
    response = await running.client.get(
        ALARMS,
        params={"originator_id": device_id},
        headers=running.as_role(Role.DISPATCHER),
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def alarm_events(running: RunningApp, alarm_id: str) -> list[Event]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(
            select(OutboxRow)
            .where(OutboxRow.type.like("analytics.alarm.%"))
            .order_by(OutboxRow.seq)
        )
        events = [Event.from_json(r.body) for r in rows]
    return [e for e in events if e.entity_id == alarm_id]


async def until_status(running: RunningApp, device_id: str, status: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    async def reached() -> bool:
        found[:] = await alarms_of(running, device_id)
        return bool(found) and found[0]["status"] == status

    await eventually(reached)
    return found[0]


async def test_an_alarm_is_raised_acknowledged_and_cleared_from_device_telemetry(
    running: RunningApp, admin: dict[str, str]
) -> None:
    device = await create_device(running.client, admin)
    token, clock = device["access_token"], Clock()
    await speed_rule(running, admin, scope_value=device["id"])
    dispatcher = running.as_role(Role.DISPATCHER)

    await send(running.client, token, clock, speed=80)
    await send(running.client, token, clock, speed=120)
    alarm = await until_status(running, device["id"], "ACTIVE_UNACK")
    assert alarm["type"] == "Speeding"
    assert alarm["severity"] == "MAJOR"
    assert alarm["details"]["trigger_value"] == 120

    # still over the limit, then inside the hysteresis band: the same alarm, not a new one
    await send(running.client, token, clock, speed=130)
    await send(running.client, token, clock, speed=95)
    response = await running.client.post(f"{ALARMS}/{alarm['id']}/ack", headers=dispatcher)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ACTIVE_ACK"
    again = await running.client.post(f"{ALARMS}/{alarm['id']}/ack", headers=dispatcher)
    assert again.status_code == 409
    assert "ACTIVE_ACK" in again.json()["detail"]

    # back below threshold - hysteresis: cleared by itself, acknowledgement kept
    await send(running.client, token, clock, speed=85)
    cleared = await until_status(running, device["id"], "CLEARED_ACK")
    assert cleared["id"] == alarm["id"]
    assert cleared["clear_ts"] == clock.ts
    assert len(await alarms_of(running, device["id"])) == 1

    events = await alarm_events(running, alarm["id"])
    # each point that kept it active moved its end: an event, so its history is complete
    # (when the acknowledgement came among them depends on how fast analytics consumed them)
    moved = [e for e in events if e.type == "analytics.alarm.updated"]
    assert [e.payload["state"]["end_ts"] for e in moved] == [
        alarm["end_ts"] + 1000,
        alarm["end_ts"] + 2000,
    ]
    lifecycle = [e for e in events if e.type != "analytics.alarm.updated"]
    assert [e.type for e in lifecycle] == [
        "analytics.alarm.created",
        "analytics.alarm.acknowledged",
        "analytics.alarm.cleared",
    ]
    assert [e.payload["state"]["status"] for e in lifecycle] == [
        "ACTIVE_UNACK",
        "ACTIVE_ACK",
        "CLEARED_ACK",
    ]
    assert events[-1].payload["state"] == cleared

    async def rebuilt() -> bool:
        return await audit_state(running.client, admin, "alarm", alarm["id"]) == cleared

    await eventually(rebuilt)

    # over the limit again after the clear: a new alarm
    await send(running.client, token, clock, speed=140)

    async def two() -> bool:
        return len(await alarms_of(running, device["id"])) == 2

    await eventually(two)


async def test_a_person_clears_assigns_and_comments_an_alarm(
    running: RunningApp, admin: dict[str, str]
) -> None:
    device = await create_device(running.client, admin, type="speed_sensor")
    token, clock = device["access_token"], Clock()
    # scoped by device type: applies to every speed sensor
    await speed_rule(
        running,
        admin,
        scope="device_type",
        scope_value="speed_sensor",
        params={"operator": "above", "threshold": 100, "min_duration_s": 2},
        severity="CRITICAL",
    )
    dispatcher = running.as_role(Role.DISPATCHER)
    await send(running.client, token, clock, speed=120)
    await send(running.client, token, clock, speed=121)
    # two points a second apart: one second over the limit, not yet two
    assert await alarms_of(running, device["id"]) == []
    await send(running.client, token, clock, speed=122)
    alarm = await until_status(running, device["id"], "ACTIVE_UNACK")
    assert alarm["severity"] == "CRITICAL"

    assigned = await running.client.put(
        f"{ALARMS}/{alarm['id']}/assignee", json={"assignee_id": "officer-7"}, headers=dispatcher
    )
    assert assigned.status_code == 200 and assigned.json()["assignee_id"] == "officer-7"
    comment = await running.client.post(
        f"{ALARMS}/{alarm['id']}/comments", json={"text": "patrol on its way"}, headers=dispatcher
    )
    assert comment.status_code == 201, comment.text
    listed = await running.client.get(f"{ALARMS}/{alarm['id']}/comments", headers=dispatcher)
    assert [c["text"] for c in listed.json()] == ["patrol on its way"]

    cleared = await running.client.post(f"{ALARMS}/{alarm['id']}/clear", headers=dispatcher)
    assert cleared.json()["status"] == "CLEARED_UNACK"
    acked = await running.client.post(f"{ALARMS}/{alarm['id']}/ack", headers=dispatcher)
    assert acked.json()["status"] == "CLEARED_ACK"
    twice = await running.client.post(f"{ALARMS}/{alarm['id']}/clear", headers=dispatcher)
    assert twice.status_code == 409

    events = await alarm_events(running, alarm["id"])
    assert [e.type.rsplit(".", 1)[1] for e in events] == [
        "created",
        "assigned",
        "commented",
        "cleared",
        "acknowledged",
    ]
    assert events[2].payload["comment"]["text"] == "patrol on its way"
    assert all(e.actor == "user:test-dispatcher" for e in events[1:])

    # the audit trail rebuilds the alarm from its events alone
    now = (await running.client.get(f"{ALARMS}/{alarm['id']}", headers=dispatcher)).json()

    async def rebuilt() -> bool:
        return await audit_state(running.client, admin, "alarm", alarm["id"]) == now

    await eventually(rebuilt)

    # a patrol officer reads alarms but does not handle them
    officer = running.as_role(Role.PATROL_OFFICER)
    assert (await running.client.get(f"{ALARMS}/{alarm['id']}", headers=officer)).status_code == 200
    assert (
        await running.client.post(f"{ALARMS}/{alarm['id']}/ack", headers=officer)
    ).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "threshold", "params": {"operator": "above"}}, "params.threshold"),
        (
            {"kind": "threshold", "params": {"operator": "sideways", "threshold": 1}},
            "params.operator",
        ),
        ({"kind": "zscore", "params": {"window": 1}}, "params.window"),
        ({"kind": "seasonal", "params": {"slot_minutes": 7}}, "params.slot_minutes"),
        ({"kind": "telepathy"}, "kind"),
        ({"kind": "threshold", "scope": "planet"}, "scope"),
    ],
)
async def test_a_wrong_rule_is_refused_naming_the_field(
    running: RunningApp, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    full = {"name": "r", "scope": "device", "scope_value": "d1", "key": "speed", **body}
    response = await running.client.post(RULES, json=full, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith(field) or f"; {field}" in response.json()["detail"]


async def test_rules_are_listed_changed_and_deleted(
    running: RunningApp, admin: dict[str, str]
) -> None:
    rule = await speed_rule(running, admin, scope_value="device-1")
    assert rule["params"] == {
        "operator": "above",
        "threshold": 100.0,
        "hysteresis": 10.0,
        "min_duration_s": 0.0,
    }
    changed = await running.client.patch(
        f"{RULES}/{rule['id']}", json={"severity": "MINOR", "enabled": False}, headers=admin
    )
    assert changed.json()["severity"] == "MINOR" and changed.json()["enabled"] is False
    listed = await running.client.get(RULES, params={"key": "speed"}, headers=admin)
    assert [r["id"] for r in listed.json()["items"]] == [rule["id"]]
    analyst = running.as_role(Role.ANALYST)
    assert (
        await running.client.delete(f"{RULES}/{rule['id']}", headers=analyst)
    ).status_code == 403
    assert (await running.client.delete(f"{RULES}/{rule['id']}", headers=admin)).status_code == 204
    assert (await running.client.get(f"{RULES}/{rule['id']}", headers=admin)).status_code == 404


async def test_a_device_that_goes_silent_raises_its_offline_alarm_until_it_talks_again(
    backend: Backend,
) -> None:
    # telemetry's sweep marks a device offline after 1 s of silence (it runs every few s)
    async with run_app(backend.settings(telemetry={"inactivity_timeout_s": 1})) as running:
        admin = running.as_role(Role.ADMINISTRATOR)
        device = await create_device(running.client, admin)
        response = await running.client.post(
            RULES,
            json={
                "name": "Detector offline",
                "scope": "device",
                "scope_value": device["id"],
                "key": "*",
                "kind": "device_offline",
                "severity": "WARNING",
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text
        await send(running.client, device["access_token"], Clock(), flow=3)
        alarm = await until_status(running, device["id"], "ACTIVE_UNACK")
        assert alarm["type"] == "Detector offline"
        assert alarm["severity"] == "WARNING"
        await send(running.client, device["access_token"], Clock(), flow=4)
        cleared = await until_status(running, device["id"], "CLEARED_UNACK")
        assert cleared["id"] == alarm["id"]
