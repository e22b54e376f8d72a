"""Bridge mode: devices publishing to the site's own broker (the machine's Mosquitto) are
taken in as if they had connected to roadwatch, and nothing they send while roadwatch is
down is lost."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import REGISTRY

from roadwatch.platform.auth import Role
from tests.factories.devices import create_device, create_profile
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.fixtures.services import MQTT_HOST, MQTT_PORT, need
from tests.support.waiting import eventually
from tests.telemetry.test_mqtt import stored_points


class SiteDevice:
    """A device on the site broker, not on roadwatch: paho publishing at QoS 1."""

    def __init__(self) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        connected = threading.Event()
        self.client.on_connect = lambda *_: connected.set()
        self.client.connect(MQTT_HOST, MQTT_PORT)
        self.client.loop_start()
        assert connected.wait(10), "the site broker did not answer"

    async def publish(self, topic: str, payload: Any) -> None:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        info = self.client.publish(topic, body, qos=1)
        await asyncio.to_thread(info.wait_for_publish, 10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@asynccontextmanager
async def bridged(backend: Backend, prefix: str, client_id: str) -> AsyncIterator[RunningApp]:
    bridge = {
        "enabled": True,
        "host": MQTT_HOST,
        "port": MQTT_PORT,
        "topic_prefix": prefix,
        "client_id": client_id,
        "reconnect_delay_s": 0.2,
    }
    async with run_app(backend.settings(mqtt_bridge=bridge)) as app:
        yield app


def bridged_count(result: str) -> float:
    return (
        REGISTRY.get_sample_value("roadwatch_mqtt_bridge_messages_total", {"result": result}) or 0
    )


def bridge_connected() -> bool:
    return REGISTRY.get_sample_value("roadwatch_mqtt_bridge_connected") == 1


async def test_telemetry_published_to_the_site_broker_is_stored(backend: Backend) -> None:
    need("mosquitto", MQTT_HOST, MQTT_PORT)
    prefix = f"site-{uuid.uuid4().hex[:8]}"
    async with bridged(backend, prefix, f"rw-{uuid.uuid4().hex[:8]}") as app:
        admin = app.as_role(Role.ADMINISTRATOR)
        profile = await create_profile(app.client, admin)
        device = await create_device(app.client, admin, profile_id=profile["id"])
        await eventually(bridge_connected)
        site = SiteDevice()
        try:
            topic = f"{prefix}/{device['access_token']}/telemetry"
            await site.publish(topic, {"ts": 1_700_000_000_000, "values": {"speed": 63.5}})
            await site.publish(f"{prefix}/{device['access_token']}/attributes", {"fw": "1.4"})

            async def stored() -> bool:
                return bool(await stored_points(app, device["id"], "speed"))

            await eventually(stored)
            points = await stored_points(app, device["id"], "speed")
            assert [(p["ts"], p["value"]) for p in points] == [(1_700_000_000_000, 63.5)]

            async def attribute_set() -> bool:
                url = f"/api/v1/telemetry/{device['id']}/attributes/client"
                listed = (await app.client.get(url, headers=admin)).json()
                return {a["key"]: a["value"] for a in listed} == {"fw": "1.4"}

            await eventually(attribute_set)

            # what can never be stored is counted, and the bridge goes on
            unknown, invalid = bridged_count("unknown_token"), bridged_count("invalid_payload")
            await site.publish(f"{prefix}/no-such-token/telemetry", {"speed": 1})
            await site.publish(topic, b"{not json")
            await site.publish(topic, {"speed": 70})
            await eventually(lambda: bridged_count("unknown_token") == unknown + 1)
            await eventually(lambda: bridged_count("invalid_payload") == invalid + 1)

            async def went_on() -> bool:
                return len(await stored_points(app, device["id"], "speed")) == 2

            await eventually(went_on)
        finally:
            site.close()


async def test_what_devices_send_while_roadwatch_is_down_arrives_after_it_restarts(
    backend: Backend,
) -> None:
    need("mosquitto", MQTT_HOST, MQTT_PORT)
    prefix = f"site-{uuid.uuid4().hex[:8]}"
    client_id = f"rw-{uuid.uuid4().hex[:8]}"
    async with bridged(backend, prefix, client_id) as app:
        device = await create_device(app.client, app.as_role(Role.ADMINISTRATOR))
        # the bridge's session is made at the broker, then roadwatch stops
        await eventually(bridge_connected)
    site = SiteDevice()
    try:
        topic = f"{prefix}/{device['access_token']}/telemetry"
        for n in range(20):
            await site.publish(topic, {"ts": 1_700_000_000_000 + n, "values": {"flow": n}})
    finally:
        site.close()
    async with bridged(backend, prefix, client_id) as app:

        async def all_arrived() -> bool:
            return len(await stored_points(app, device["id"], "flow")) == 20

        await eventually(all_arrived)
        values = [p["value"] for p in await stored_points(app, device["id"], "flow")]
        assert sorted(values) == list(range(20))
