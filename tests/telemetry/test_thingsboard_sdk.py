"""ThingsBoard's own device SDK (tb-mqtt-client), unchanged, against roadwatch over MQTT."""

from __future__ import annotations

import asyncio
from typing import Any

import tb_device_mqtt
import tb_gateway_mqtt

from roadwatch.platform.auth import Role
from tests.factories.devices import create_device
from tests.fixtures.backends import Backend
from tests.support.waiting import eventually
from tests.telemetry.test_mqtt import serving


async def test_the_sdk_sends_telemetry_gets_attributes_and_answers_commands(
    backend: Backend,
) -> None:
    async with serving(backend) as endpoint:
        app = endpoint.app
        admin = app.as_role(Role.ADMINISTRATOR)
        device_id, token = await endpoint.new_device()
        client = tb_device_mqtt.TBDeviceMqttClient("127.0.0.1", port=endpoint.port, username=token)
        updates: list[dict[str, Any]] = []

        def on_attributes(content: dict[str, Any], _error: Any) -> None:
            updates.append(content)

        def on_command(request_id: str, request: dict[str, Any]) -> None:
            # runs in the SDK's network thread, as on a real device
            client.send_rpc_reply(request_id, {"applied": request["params"]["mode"]})

        client.set_server_side_rpc_request_handler(on_command)
        try:
            await asyncio.to_thread(client.connect)
            await eventually(client.is_connected)
            client.subscribe_to_all_attributes(on_attributes)

            info = await asyncio.to_thread(client.send_telemetry, {"speed": 48.5, "flow": 7})
            assert await asyncio.to_thread(info.get) == 0
            latest = await app.client.get(f"/api/v1/telemetry/{device_id}/latest", headers=admin)
            assert latest.json()["speed"]["value"] == 48.5

            # the SDK subscribes after connecting: set the attribute until the push finds it
            attempt = 0

            async def pushed() -> bool:
                nonlocal attempt
                if not updates:
                    attempt += 1
                    answer = await app.client.post(
                        f"/api/v1/telemetry/{device_id}/attributes/shared",
                        json={"mode": f"eco-{attempt}"},
                        headers=admin,
                    )
                    assert answer.status_code == 200, answer.text
                    await asyncio.sleep(0.2)
                return bool(updates)

            await eventually(pushed, timeout_s=20)
            assert updates[0]["mode"].startswith("eco-")

            # a two-way command: the platform's request waits for the device's answer
            answered = await app.client.post(
                f"/api/v1/telemetry/{device_id}/rpc",
                json={"method": "setMode", "params": {"mode": "eco"}, "timeout_ms": 15_000},
                headers=admin,
            )
            assert answered.status_code == 200, answered.text
            assert answered.json()["response"] == {"applied": "eco"}
            assert answered.json()["status"] == "replied"
        finally:
            client.stop()
            await asyncio.to_thread(client.disconnect)


async def test_the_sdks_gateway_client_speaks_for_the_devices_behind_it(
    backend: Backend,
) -> None:
    async with serving(backend) as endpoint:
        app = endpoint.app
        admin = app.as_role(Role.ADMINISTRATOR)
        gateway = await create_device(app.client, admin, extra={"gateway": True})
        child = await create_device(app.client, admin)
        client = tb_gateway_mqtt.TBGatewayMqttClient(
            "127.0.0.1", port=endpoint.port, username=gateway["access_token"]
        )

        def on_command(gateway_client: Any, request: dict[str, Any]) -> None:
            data = request["data"]
            gateway_client.gw_send_rpc_reply(
                request["device"], data["id"], {"applied": data["params"]["mode"]}
            )

        client.gw_set_server_side_rpc_request_handler(on_command)
        try:
            await asyncio.to_thread(client.connect)
            await eventually(client.is_connected)
            connected = await asyncio.to_thread(client.gw_connect_device, child["name"])
            assert await asyncio.to_thread(connected.get) == 0
            sent = await asyncio.to_thread(
                client.gw_send_telemetry,
                child["name"],
                {"ts": 1_700_000_000_000, "values": {"speed": 51.5}},
            )
            assert await asyncio.to_thread(sent.get) == 0
            latest = await app.client.get(f"/api/v1/telemetry/{child['id']}/latest", headers=admin)
            assert latest.json()["speed"]["value"] == 51.5

            answered = await app.client.post(
                f"/api/v1/telemetry/{child['id']}/rpc",
                json={"method": "setMode", "params": {"mode": "eco"}, "timeout_ms": 15_000},
                headers=admin,
            )
            assert answered.status_code == 200, answered.text
            assert answered.json()["response"] == {"applied": "eco"}
        finally:
            client.stop()
            await asyncio.to_thread(client.disconnect)
