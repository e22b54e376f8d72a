"""Commands to devices over the HTTP device API: one-way and two-way calls through the
long-poll, replies, expiry, and the device's own calls to the platform."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from roadwatch.platform.auth import Role
from roadwatch.platform.errors import NotFound
from roadwatch.platform.events import Event
from roadwatch.platform.events.outbox import OutboxRow
from roadwatch.telemetry.device_messages import handles, on_device_message
from roadwatch.telemetry.rpc import expire_due, now_ms
from tests.factories.devices import create_device
from tests.fixtures.app import RunningApp
from tests.fixtures.backends import Backend
from tests.support.waiting import eventually
from tests.telemetry.test_mqtt import PahoDevice, serving


async def transitions(running: RunningApp, rpc_id: str) -> list[tuple[str | None, str]]:
    async with running.platform.db.session() as session:
        rows = await session.scalars(
            select(OutboxRow)
            .where(OutboxRow.type == "telemetry.rpc.status_changed")
            .order_by(OutboxRow.seq)
        )
        events = [Event.from_json(r.body) for r in rows]
    return [(e.payload["from"], e.payload["to"]) for e in events if e.entity_id == rpc_id]


async def test_a_two_way_call_is_answered_with_the_devices_response(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    device = await create_device(client, admin)
    token = device["access_token"]

    async def the_device() -> dict[str, Any]:
        polled = await client.get(f"/api/v1/{token}/rpc", params={"timeout": 10000})
        assert polled.status_code == 200, polled.text
        request = polled.json()
        replied = await client.post(
            f"/api/v1/{token}/rpc/{request['id']}",
            json={"result": "ok", "pin": request["params"]["pin"]},
        )
        assert replied.status_code == 200, replied.text
        return dict(request)

    device_side = asyncio.create_task(the_device())
    created = await client.post(
        f"/api/v1/telemetry/{device['id']}/rpc",
        json={"method": "setGpio", "params": {"pin": 23, "value": 1}, "timeout_ms": 10000},
        headers=admin,
    )
    request = await device_side
    assert request == {"id": 1, "method": "setGpio", "params": {"pin": 23, "value": 1}}
    assert created.status_code == 200, created.text
    call = created.json()
    assert call["status"] == "replied"
    assert call["response"] == {"result": "ok", "pin": 23}
    assert call["request_id"] == 1
    assert call["created_by"] == "user:test-administrator"

    looked_up = await client.get(
        f"/api/v1/telemetry/{device['id']}/rpc/{call['id']}",
        headers=running.as_role(Role.ANALYST),
    )
    assert looked_up.json()["response"] == {"result": "ok", "pin": 23}
    assert await transitions(running, call["id"]) == [
        (None, "queued"),
        ("queued", "delivered"),
        ("delivered", "replied"),
    ]


async def test_a_one_way_call_is_accepted_at_once_and_delivered_by_the_poll(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    device = await create_device(client, admin)
    token = device["access_token"]
    created = await client.post(
        f"/api/v1/telemetry/{device['id']}/rpc",
        json={"method": "reboot", "oneway": True},
        headers=admin,
    )
    assert created.status_code == 202, created.text
    call = created.json()
    assert call["status"] == "queued"
    assert call["params"] == {}

    polled = await client.get(f"/api/v1/{token}/rpc", params={"timeout": 1000})
    assert polled.json() == {"id": 1, "method": "reboot", "params": {}}
    url = f"/api/v1/telemetry/{device['id']}/rpc/{call['id']}"
    assert (await client.get(url, headers=admin)).json()["status"] == "delivered"
    # a one-way call takes no reply
    answered = await client.post(f"/api/v1/{token}/rpc/1", json={"ok": True})
    assert answered.status_code == 409
    # and nothing more is waiting
    again = await client.get(f"/api/v1/{token}/rpc", params={"timeout": 200})
    assert again.status_code == 408
    # a delivered one-way call does not expire
    assert await expire_due(running.platform, now_ms() + 3_600_000) == []


async def test_an_unanswered_call_expires(running: RunningApp, admin: dict[str, str]) -> None:
    client = running.client
    device = await create_device(client, admin)
    created = await client.post(
        f"/api/v1/telemetry/{device['id']}/rpc",
        json={"method": "getState", "timeout_ms": 300},
        headers=admin,
    )
    assert created.status_code == 504, created.text
    problem = created.json()
    assert "did not answer" in problem["detail"]
    rpc_id = problem["rpc_id"]
    call = await client.get(f"/api/v1/telemetry/{device['id']}/rpc/{rpc_id}", headers=admin)
    assert call.json()["status"] == "expired"
    assert call.json()["error"] == "not delivered in time"
    assert await transitions(running, rpc_id) == [(None, "queued"), ("queued", "expired")]

    # the device polling later gets nothing, and its late reply is refused
    token = device["access_token"]
    assert (await client.get(f"/api/v1/{token}/rpc", params={"timeout": 100})).status_code == 408
    late = await client.post(f"/api/v1/{token}/rpc/1", json={"too": "late"})
    assert late.status_code == 409


async def test_the_sweep_expires_a_delivered_call_left_unanswered(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    device = await create_device(client, admin)
    created = await client.post(
        f"/api/v1/telemetry/{device['id']}/rpc",
        json={"method": "slow", "timeout_ms": 60_000},
        headers=admin,
    )
    assert created.status_code == 202  # longer than the create request waits
    rpc_id = created.json()["id"]
    token = device["access_token"]
    assert (await client.get(f"/api/v1/{token}/rpc", params={"timeout": 1000})).status_code == 200
    assert await expire_due(running.platform, now_ms()) == []
    assert await expire_due(running.platform, now_ms() + 61_000) == [rpc_id]
    call = await client.get(f"/api/v1/telemetry/{device['id']}/rpc/{rpc_id}", headers=admin)
    assert (call.json()["status"], call.json()["error"]) == ("expired", "not answered in time")


async def test_a_reply_to_an_unknown_request_is_404(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    token = (await create_device(client, admin))["access_token"]
    unknown = await client.post(f"/api/v1/{token}/rpc/42", json={"result": "ok"})
    assert unknown.status_code == 404
    assert "42" in unknown.json()["detail"]
    bad_id = await client.post(f"/api/v1/{token}/rpc/forty-two", json={})
    assert bad_id.status_code == 400
    assert (await client.post("/api/v1/no-such-token/rpc/1", json={})).status_code == 401


async def test_the_device_asks_for_its_session_limits(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    token = (await create_device(client, admin))["access_token"]
    limits = await client.post(
        f"/api/v1/{token}/rpc", json={"method": "getSessionLimits", "params": {}}
    )
    assert limits.status_code == 200, limits.text
    body = limits.json()
    assert body["maxPayloadSize"] == running.platform.settings.telemetry.max_payload_bytes
    assert body["rateLimits"] == {}
    unknown = await client.post(f"/api/v1/{token}/rpc", json={"method": "getWeather"})
    assert unknown.status_code == 404
    assert "getWeather" in unknown.json()["detail"]
    assert (await client.post(f"/api/v1/{token}/rpc", content=b"{")).status_code == 400


async def test_calls_are_listed_by_status_and_guarded_by_role(
    running: RunningApp, admin: dict[str, str]
) -> None:
    client = running.client
    device = await create_device(client, admin)
    url = f"/api/v1/telemetry/{device['id']}/rpc"
    for method in ("a", "b", "c"):
        made = await client.post(url, json={"method": method, "oneway": True}, headers=admin)
        assert made.status_code == 202
    await client.get(f"/api/v1/{device['access_token']}/rpc", params={"timeout": 1000})

    queued = await client.get(url, params={"status": "queued"}, headers=admin)
    assert queued.status_code == 200
    assert [c["method"] for c in queued.json()["items"]] == ["c", "b"]
    page = await client.get(url, params={"limit": 1, "sort": "request_id"}, headers=admin)
    assert page.json()["total"] == 3
    assert [c["method"] for c in page.json()["items"]] == ["a"]

    citizen = running.as_role(Role.CITIZEN)
    assert (await client.post(url, json={"method": "x"}, headers=citizen)).status_code == 403
    analyst = running.as_role(Role.ANALYST)
    assert (await client.post(url, json={"method": "x"}, headers=analyst)).status_code == 403
    assert (await client.get(url, headers=citizen)).status_code == 403
    missing = "/api/v1/telemetry/no-such-device/rpc"
    assert (await client.post(missing, json={"method": "x"}, headers=admin)).status_code == 404
    assert (await client.get(missing, headers=admin)).status_code == 404
    invalid = await client.post(url, json={"method": "x", "timeout_ms": 1}, headers=admin)
    assert invalid.status_code == 422


# -- over MQTT ------------------------------------------------------------------------------


async def test_a_device_on_mqtt_gets_shared_attributes_and_commands(backend: Backend) -> None:
    async with serving(backend) as endpoint:
        app = endpoint.app
        admin = app.as_role(Role.ADMINISTRATOR)
        device_id, token = await endpoint.new_device()
        device = PahoDevice(endpoint.port, token)
        try:
            assert await device.connect() == 0
            assert await device.subscribe("v1/devices/me/attributes") == [1]
            assert await device.subscribe("v1/devices/me/rpc/request/+") == [1]

            stored = await app.client.post(
                f"/api/v1/telemetry/{device_id}/attributes/shared",
                json={"mode": "eco"},
                headers=admin,
            )
            assert stored.status_code == 200
            pushed = await device.message()
            assert pushed.topic == "v1/devices/me/attributes"
            assert orjson.loads(pushed.payload) == {"mode": "eco"}

            created = await app.client.post(
                f"/api/v1/telemetry/{device_id}/rpc",
                json={"method": "setMode", "params": {"mode": "eco"}, "timeout_ms": 60_000},
                headers=admin,
            )
            assert created.status_code == 202
            rpc_id = created.json()["id"]
            request = await device.message()
            assert request.topic == "v1/devices/me/rpc/request/1"
            assert orjson.loads(request.payload) == {"method": "setMode", "params": {"mode": "eco"}}
            # acknowledged at QoS 1: the device has it
            url = f"/api/v1/telemetry/{device_id}/rpc/{rpc_id}"

            async def delivered() -> bool:
                call = await app.client.get(url, headers=admin)
                return bool(call.json()["status"] == "delivered")

            await eventually(delivered, timeout_s=10)

            # the device answers on its response topic
            assert await device.publish("v1/devices/me/rpc/response/1", b'{"done": true}') == 0

            async def replied() -> bool:
                call = (await app.client.get(url, headers=admin)).json()
                return bool(call["status"] == "replied")

            await eventually(replied, timeout_s=10)
            call = (await app.client.get(url, headers=admin)).json()
            assert call["response"] == {"done": True}
            assert await transitions(app, rpc_id) == [
                (None, "queued"),
                ("queued", "sent"),
                ("sent", "delivered"),
                ("delivered", "replied"),
            ]
        finally:
            await device.close()


async def test_device_messages_on_mqtt_topics(running: RunningApp, admin: dict[str, str]) -> None:
    """What the MQTT session does with the attribute and RPC topics (device_messages)."""
    device = await create_device(running.client, admin)
    platform, device_id = running.platform, device["id"]
    assert handles("v1/devices/me/attributes") and handles("v1/devices/me/rpc/request/7")
    assert not handles("v1/devices/me/telemetry")

    await on_device_message(platform, device_id, "v1/devices/me/attributes", b'{"fw": "1.2"}')
    [(topic, payload)] = await on_device_message(
        platform, device_id, "v1/devices/me/attributes/request/5", b'{"clientKeys": "fw"}'
    )
    assert (topic, orjson.loads(payload)) == (
        "v1/devices/me/attributes/response/5",
        {"client": {"fw": "1.2"}},
    )
    [(topic, payload)] = await on_device_message(
        platform, device_id, "v1/devices/me/rpc/request/3", b'{"method": "getSessionLimits"}'
    )
    assert topic == "v1/devices/me/rpc/response/3"
    assert set(orjson.loads(payload)) == {"maxPayloadSize", "maxInflightMessages", "rateLimits"}
    with pytest.raises(NotFound):
        await on_device_message(platform, device_id, "v1/devices/me/rpc/response/9", b"{}")
