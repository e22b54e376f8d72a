"""ThingsBoard's gateway API over MQTT: one gateway connection speaks for the registered
devices behind it — their telemetry, attributes, shared-attribute updates and commands."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson

from roadwatch.platform.auth import Role
from roadwatch.telemetry.mqtt.packets import MQTT_5, MQTT_311
from tests.factories.devices import create_device, create_profile
from tests.support.waiting import eventually
from tests.telemetry.test_mqtt import Endpoint, PahoDevice, connected, stored_points

GATEWAY_TELEMETRY = "v1/gateway/telemetry"


async def gateway_and_children(
    endpoint: Endpoint, devices: list[PahoDevice], version: int = MQTT_5, **child: Any
) -> tuple[PahoDevice, list[dict[str, Any]]]:
    app = endpoint.app
    admin = app.as_role(Role.ADMINISTRATOR)
    gateway = await create_device(
        app.client,
        admin,
        type="generic",
        extra={"gateway": True},
        name=f"gw-{uuid.uuid4().hex[:6]}",
    )
    children = [await create_device(app.client, admin, **child) for _ in range(2)]
    connection = await connected(endpoint, devices, gateway["access_token"], version)
    return connection, children


async def test_a_gateway_sends_telemetry_for_the_devices_behind_it(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    gateway, (north, south) = await gateway_and_children(endpoint, devices, MQTT_311)
    message = {
        north["name"]: [{"ts": 1_700_000_000_000, "values": {"count": 12, "speed": 48.5}}],
        south["name"]: {"count": 7},
    }
    assert await gateway.publish(GATEWAY_TELEMETRY, orjson.dumps(message)) == 0
    speeds = await stored_points(endpoint.app, north["id"], "speed")
    assert [(p["ts"], p["value"]) for p in speeds] == [(1_700_000_000_000, 48.5)]
    assert [p["value"] for p in await stored_points(endpoint.app, south["id"], "count")] == [7]
    # the devices behind it count as active, as if they had sent it themselves
    status = await endpoint.app.client.get(
        f"/api/v1/telemetry/{south['id']}/status", headers=endpoint.app.as_role(Role.ANALYST)
    )
    assert status.json()["online"] is True


async def test_a_message_naming_an_unknown_device_is_refused_whole(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    gateway, (north, _) = await gateway_and_children(endpoint, devices)
    message = {north["name"]: {"count": 1}, "nobody-registered-this": {"count": 2}}
    assert await gateway.publish(GATEWAY_TELEMETRY, orjson.dumps(message)) == 0x83
    assert await stored_points(endpoint.app, north["id"], "count") == []
    # malformed JSON: refused too, and the connection lives on
    assert await gateway.publish(GATEWAY_TELEMETRY, b'{"oops": ') == 0x99
    assert (
        await gateway.publish(GATEWAY_TELEMETRY, orjson.dumps({north["name"]: {"count": 3}})) == 0
    )
    assert [p["value"] for p in await stored_points(endpoint.app, north["id"], "count")] == [3]


async def test_values_outside_a_childs_profile_are_refused(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    app = endpoint.app
    profile = await create_profile(app.client, app.as_role(Role.ADMINISTRATOR))
    gateway, (north, _) = await gateway_and_children(endpoint, devices, profile_id=profile["id"])
    too_fast = orjson.dumps({north["name"]: {"speed": 400}})

    async def refused() -> bool:
        return bool(await gateway.publish(GATEWAY_TELEMETRY, too_fast) == 0x99)

    await eventually(refused)
    assert await stored_points(app, north["id"], "speed") == []


async def test_only_a_gateway_device_may_use_the_gateway_topics(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    app = endpoint.app
    admin = app.as_role(Role.ADMINISTRATOR)
    plain = await create_device(app.client, admin)
    other = await create_device(app.client, admin)
    connection = await connected(endpoint, devices, plain["access_token"], MQTT_5)
    message = orjson.dumps({other["name"]: {"count": 1}})
    assert await connection.publish(GATEWAY_TELEMETRY, message) == 0x83
    assert await stored_points(app, other["id"], "count") == []
    assert await connection.publish("v1/devices/me/telemetry", b'{"count": 2}') == 0


async def test_a_gateway_reports_and_reads_attributes_of_its_devices(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    gateway, (north, _) = await gateway_and_children(endpoint, devices)
    attributes = orjson.dumps({north["name"]: {"firmware": "2.4.1", "lanes": 3}})
    assert await gateway.publish("v1/gateway/attributes", attributes) == 0
    assert await gateway.subscribe("v1/gateway/attributes/response") == [1]
    request = {"id": 9, "device": north["name"], "client": True, "key": "firmware"}
    assert await gateway.publish("v1/gateway/attributes/request", orjson.dumps(request)) == 0
    answer = await gateway.message()
    assert answer.topic == "v1/gateway/attributes/response"
    assert orjson.loads(answer.payload) == {"id": 9, "device": north["name"], "value": "2.4.1"}
    listed = await endpoint.app.client.get(
        f"/api/v1/telemetry/{north['id']}/attributes/client",
        headers=endpoint.app.as_role(Role.ANALYST),
    )
    assert {a["key"]: a["value"] for a in listed.json()} == {"firmware": "2.4.1", "lanes": 3}


async def test_shared_attributes_and_commands_reach_a_device_through_its_gateway(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    app = endpoint.app
    admin = app.as_role(Role.ADMINISTRATOR)
    gateway, (north, _) = await gateway_and_children(endpoint, devices)
    assert await gateway.subscribe("v1/gateway/attributes") == [1]
    assert await gateway.subscribe("v1/gateway/rpc") == [1]
    connect = orjson.dumps({"device": north["name"]})
    assert await gateway.publish("v1/gateway/connect", connect) == 0

    shared = await app.client.post(
        f"/api/v1/telemetry/{north['id']}/attributes/shared",
        json={"speed_limit": 60},
        headers=admin,
    )
    assert shared.status_code in (200, 204), shared.text
    update = await gateway.message()
    assert update.topic == "v1/gateway/attributes"
    assert orjson.loads(update.payload) == {"device": north["name"], "data": {"speed_limit": 60}}

    async def the_gateway() -> None:
        request = await gateway.message()
        assert request.topic == "v1/gateway/rpc"
        call = orjson.loads(request.payload)
        assert call["device"] == north["name"]
        assert call["data"]["method"] == "setMode"
        reply = {"device": north["name"], "id": call["data"]["id"], "data": {"mode": "night"}}
        assert await gateway.publish("v1/gateway/rpc", orjson.dumps(reply)) == 0

    answering = asyncio.create_task(the_gateway())
    created = await app.client.post(
        f"/api/v1/telemetry/{north['id']}/rpc",
        json={"method": "setMode", "params": {"mode": "night"}, "timeout_ms": 10000},
        headers=admin,
    )
    await answering
    assert created.status_code == 200, created.text
    assert created.json()["status"] == "replied"
    assert created.json()["response"] == {"mode": "night"}
