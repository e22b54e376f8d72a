"""The device-facing MQTT endpoint: real clients (paho-mqtt, ThingsBoard's SDK) against the
running app on every backend, protocol edge cases on a raw socket, and the codec itself."""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import paho.mqtt.client as paho
import pytest
import tb_device_mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import REGISTRY

from roadwatch.config import ConfigError, Settings
from roadwatch.platform.auth import Role
from roadwatch.telemetry.ingest import device_for_token
from roadwatch.telemetry.mqtt import (
    MqttServer,
    MqttSettings,
    SessionRegistry,
    registry_for,
)
from roadwatch.telemetry.mqtt.codec import PacketTooLarge, decode, encode, read_frame
from roadwatch.telemetry.mqtt.packets import (
    MQTT_5,
    MQTT_311,
    Auth,
    ConnAck,
    Connect,
    Disconnect,
    Packet,
    PacketType,
    PingReq,
    PingResp,
    PubAck,
    Publish,
    Reason,
    SubAck,
    Subscribe,
    Subscription,
    UnsubAck,
    Unsubscribe,
    Will,
)
from roadwatch.telemetry.mqtt.properties import Prop, Properties
from roadwatch.telemetry.mqtt.revocation import close_revoked
from roadwatch.telemetry.mqtt.topics import matches, valid_filter
from roadwatch.telemetry.mqtt.wire import MalformedPacket, decode_varint, encode_varint
from tests.factories.devices import create_device, create_profile
from tests.fixtures.app import RunningApp, run_app
from tests.fixtures.backends import Backend
from tests.fixtures.server import free_port
from tests.fixtures.services import PG_PORT
from tests.fixtures.tcp_proxy import TcpProxy
from tests.support.waiting import eventually, with_port

TELEMETRY = "v1/devices/me/telemetry"
ATTRIBUTES = "v1/devices/me/attributes"
WAIT_S = 15.0


# -- the running endpoint -----------------------------------------------------------------


@dataclass
class Endpoint:
    app: RunningApp
    server: MqttServer

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def registry(self) -> SessionRegistry:
        return registry_for(self.app.platform)

    async def new_device(self) -> tuple[str, str]:
        return await new_device(self.app)

    async def points(self, device_id: str, key: str) -> list[dict[str, Any]]:
        return await stored_points(self.app, device_id, key)


async def new_device(app: RunningApp) -> tuple[str, str]:
    """(device id, access token) of a new device, once telemetry knows the token."""
    created = await app.client.post(
        "/api/v1/devices",
        json={"name": f"loop-{uuid.uuid4().hex[:8]}", "type": "induction_loop"},
        headers=app.as_role(Role.ADMINISTRATOR),
    )
    assert created.status_code == 201, created.text
    device_id, token = created.json()["id"], created.json()["access_token"]

    async def known() -> bool:
        return await device_for_token(app.platform, token) is not None

    await eventually(known)
    return device_id, token


async def stored_points(app: RunningApp, device_id: str, key: str) -> list[dict[str, Any]]:
    response = await app.client.get(
        f"/api/v1/telemetry/{device_id}/timeseries",
        params={"keys": key, "startTs": 0, "endTs": int(time.time() * 1000) + 60_000},
        headers=app.as_role(Role.ADMINISTRATOR),
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json().get(key, [])
    return found


@asynccontextmanager
async def serving(backend: Backend, **overrides: object) -> AsyncIterator[Endpoint]:
    """The app, and an MQTT endpoint of its own on a port the OS picks."""
    if "mqtt" in Settings.model_fields:
        # the app's own listener stays off
        overrides.setdefault("mqtt", {"enabled": False})
    async with run_app(backend.settings(**overrides)) as app:
        settings = MqttSettings(port=0, max_packet_bytes=64 * 1024)
        server = MqttServer(app.platform, settings, registry_for(app.platform))
        await server.start()
        try:
            yield Endpoint(app, server)
        finally:
            await server.close()


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- a device on paho-mqtt ----------------------------------------------------------------


class PahoDevice:
    """A device on the paho-mqtt client; paho's network loop runs in its own thread, so
    the test's event loop (which runs the server) only ever waits on it in `to_thread`."""

    def __init__(self, port: int, token: str | None, version: int = MQTT_311) -> None:
        protocol = paho.MQTTv5 if version == MQTT_5 else paho.MQTTv311
        self.port = port
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=protocol)
        if token is not None:
            self.client.username_pw_set(token, "ignored")
        self.connack: ReasonCode | None = None
        self.connack_properties: Any = None
        self.disconnect_reason: ReasonCode | None = None
        self.acks: dict[int, ReasonCode] = {}
        self.granted: dict[int, list[ReasonCode]] = {}
        self.messages: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._changed = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, message: self.messages.put(message)

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: ReasonCode, props: Any) -> None:
        self.connack, self.connack_properties = reason, props
        self._connected.set()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self.disconnect_reason = reason
        self._disconnected.set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        with self._changed:
            self.acks[mid] = reason
            self._changed.notify_all()

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        with self._changed:
            self.granted[mid] = reasons
            self._changed.notify_all()

    async def connect(self, keepalive: int = 60) -> ReasonCode:
        await asyncio.to_thread(self.client.connect, "127.0.0.1", self.port, keepalive)
        self.client.loop_start()
        assert await asyncio.to_thread(self._connected.wait, WAIT_S), "no CONNACK"
        assert self.connack is not None
        return self.connack

    async def _until(self, check: Any) -> Any:
        def wait() -> Any:
            with self._changed:
                assert self._changed.wait_for(check, WAIT_S), "timed out"
                return check()

        return await asyncio.to_thread(wait)

    def send(self, topic: str, payload: bytes | str, qos: int = 1) -> int:
        info = self.client.publish(topic, payload, qos=qos)
        assert info.rc == paho.MQTT_ERR_SUCCESS
        return info.mid

    async def acked(self, mid: int) -> ReasonCode:
        return await self._until(lambda: self.acks.get(mid))  # type: ignore[no-any-return]

    async def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> ReasonCode:
        return await self.acked(self.send(topic, payload, qos))

    async def subscribe(self, topic: str, qos: int = 1) -> list[ReasonCode]:
        _, mid = self.client.subscribe(topic, qos)
        return await self._until(lambda: self.granted.get(mid))  # type: ignore[no-any-return]

    async def disconnected(self) -> ReasonCode | None:
        assert await asyncio.to_thread(self._disconnected.wait, WAIT_S), "still connected"
        return self.disconnect_reason

    async def message(self) -> paho.MQTTMessage:
        return await asyncio.to_thread(self.messages.get, True, WAIT_S)

    async def close(self) -> None:
        self.client.disconnect()
        await asyncio.to_thread(self.client.loop_stop)


async def connected(
    endpoint: Endpoint, devices: list[PahoDevice], token: str, version: int
) -> PahoDevice:
    device = PahoDevice(endpoint.port, token, version)
    devices.append(device)
    assert await device.connect() == 0
    return device


# -- a raw connection, for what a well-behaved client never sends -------------------------


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, version: int):
        self.reader, self.writer, self.version = reader, writer, version

    @classmethod
    async def open(cls, port: int, version: int = MQTT_311) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, version)

    async def connect(self, token: str | None, keep_alive: int = 60) -> ConnAck:
        await self.send(Connect(self.version, "raw-client", keep_alive, username=token))
        connack = await self.receive()
        assert isinstance(connack, ConnAck)
        return connack

    async def send(self, packet: Packet) -> None:
        await self.send_bytes(encode(packet, self.version))

    async def send_bytes(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def receive(self) -> Packet:
        async with asyncio.timeout(WAIT_S):
            first, body = await read_frame(self.reader, 1 << 20)
        return decode(first, body, self.version)

    async def closed_by_server(self) -> bool:
        async with asyncio.timeout(WAIT_S):
            return await self.reader.read(1) == b""

    def close(self) -> None:
        self.writer.close()


# -- telemetry in, acknowledged only once stored -------------------------------------------


@pytest.mark.parametrize("version", [MQTT_311, MQTT_5])
async def test_qos1_telemetry_is_acknowledged_once_stored(
    endpoint: Endpoint, devices: list[PahoDevice], version: int
) -> None:
    device_id, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, version)
    ack = await device.publish(TELEMETRY, '{"ts": 1700000000000, "values": {"speed": 54.5}}')
    assert ack == 0
    # PUBACK means committed: the point is readable at once, no waiting
    assert await endpoint.points(device_id, "speed") == [{"ts": 1700000000000, "value": 54.5}]


async def test_qos0_telemetry_is_stored(endpoint: Endpoint, devices: list[PahoDevice]) -> None:
    device_id, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_311)
    device.send(TELEMETRY, '{"flow": 12}', qos=0)

    async def stored() -> bool:
        return len(await endpoint.points(device_id, "flow")) == 1

    await eventually(stored)


async def test_all_thingsboard_payload_shapes_are_taken(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    device_id, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    # points without "ts" are stamped on arrival; two of one key could share a millisecond
    payloads = [
        '{"flow": 10}',
        '{"ts": 1700000000001, "values": {"occupancy": 0.2}}',
        '[{"ts": 1700000000002, "values": {"occupancy": 0.3}}, {"speed": 40}]',
    ]
    mids = [device.send(TELEMETRY, payload) for payload in payloads]
    assert [await device.acked(mid) for mid in mids] == [0, 0, 0]
    assert [p["value"] for p in await endpoint.points(device_id, "flow")] == [10]
    assert [p["value"] for p in await endpoint.points(device_id, "speed")] == [40]
    occupancy = await endpoint.points(device_id, "occupancy")
    assert sorted((p["ts"], p["value"]) for p in occupancy) == [
        (1700000000001, 0.2),
        (1700000000002, 0.3),
    ]


async def test_messages_arriving_together_are_stored_and_acked_in_order(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    device_id, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    mids = [
        device.send(TELEMETRY, f'{{"ts": {1700000000000 + i}, "values": {{"n": {i}}}}}')
        for i in range(50)
    ]
    assert [await device.acked(mid) for mid in mids] == [0] * len(mids)
    points = await endpoint.points(device_id, "n")
    assert sorted(p["value"] for p in points) == list(range(50))


# -- the other device topics, handed to the telemetry service -------------------------------


@pytest.mark.parametrize("version", [MQTT_311, MQTT_5])
async def test_client_attributes_are_stored_and_can_be_requested_back(
    endpoint: Endpoint, devices: list[PahoDevice], version: int
) -> None:
    _, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, version)
    assert await device.subscribe("v1/devices/me/attributes/response/+") == [1]
    assert await device.publish(ATTRIBUTES, '{"firmware": "1.4.2", "lanes": 3}') == 0
    request = '{"clientKeys": "firmware,lanes"}'
    assert await device.publish("v1/devices/me/attributes/request/7", request) == 0
    reply = await device.message()
    assert reply.topic == "v1/devices/me/attributes/response/7"
    assert orjson.loads(reply.payload)["client"] == {"firmware": "1.4.2", "lanes": 3}


async def test_device_rpc_get_session_limits_is_answered(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    _, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    assert await device.subscribe("v1/devices/me/rpc/response/+") == [1]
    call = '{"method": "getSessionLimits", "params": {}}'
    assert await device.publish("v1/devices/me/rpc/request/1", call) == 0
    reply = await device.message()
    assert reply.topic == "v1/devices/me/rpc/response/1"
    limits = orjson.loads(reply.payload)
    assert limits["maxPayloadSize"] > 0 and limits["maxInflightMessages"] > 0
    assert limits["rateLimits"] == {}


async def test_bad_attributes_are_refused_in_puback_and_connection_lives_on(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    _, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    before = counter("roadwatch_mqtt_rejected_total", reason="invalid_payload")
    assert await device.publish(ATTRIBUTES, b"[1, 2]") == 0x99
    assert counter("roadwatch_mqtt_rejected_total", reason="invalid_payload") == before + 1
    unknown = '{"method": "selfDestruct", "params": {}}'
    assert await device.publish("v1/devices/me/rpc/request/2", unknown) == 0x83
    assert await device.publish(ATTRIBUTES, '{"lanes": 2}') == 0


# -- refused connections -------------------------------------------------------------------


async def test_unknown_token_is_refused_311_with_not_authorized(endpoint: Endpoint) -> None:
    before = counter("roadwatch_mqtt_connects_total", result="not_authorized")
    client = await RawClient.open(endpoint.port, MQTT_311)
    try:
        assert await client.connect("no-such-token") == ConnAck(5)
        assert await client.closed_by_server()
    finally:
        client.close()
    assert counter("roadwatch_mqtt_connects_total", result="not_authorized") == before + 1


async def test_unknown_token_is_refused_5_with_not_authorized(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    device = PahoDevice(endpoint.port, "no-such-token", MQTT_5)
    devices.append(device)
    assert await device.connect() == 0x87


async def test_missing_token_is_bad_user_name(endpoint: Endpoint) -> None:
    for version, expected in ((MQTT_311, 4), (MQTT_5, 0x86)):
        client = await RawClient.open(endpoint.port, version)
        try:
            assert (await client.connect(None)).reason == expected
        finally:
            client.close()


async def test_empty_client_id_needs_clean_session_in_311(endpoint: Endpoint) -> None:
    _, token = await endpoint.new_device()
    client = await RawClient.open(endpoint.port, MQTT_311)
    try:
        await client.send(Connect(MQTT_311, "", 60, clean_start=False, username=token))
        assert await client.receive() == ConnAck(2)
        assert await client.closed_by_server()
    finally:
        client.close()


async def test_revoked_token_no_longer_connects(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    device_id, token = await endpoint.new_device()
    revoked = await endpoint.app.client.delete(
        f"/api/v1/devices/{device_id}/credentials",
        headers=endpoint.app.as_role(Role.ADMINISTRATOR),
    )
    assert revoked.status_code == 204, revoked.text

    async def forgotten() -> bool:
        return await device_for_token(endpoint.app.platform, token) is None

    await eventually(forgotten)
    client = await RawClient.open(endpoint.port, MQTT_311)
    try:
        assert await client.connect(token) == ConnAck(5)
    finally:
        client.close()


@pytest.mark.parametrize("change", ["rotate", "revoke", "delete"])
async def test_a_connected_device_is_disconnected_once_its_credentials_go(
    endpoint: Endpoint, devices: list[PahoDevice], change: str
) -> None:
    device_id, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    admin = endpoint.app.as_role(Role.ADMINISTRATOR)
    url = f"/api/v1/devices/{device_id}"
    if change == "rotate":
        answer = await endpoint.app.client.post(f"{url}/credentials", json={}, headers=admin)
    elif change == "revoke":
        answer = await endpoint.app.client.delete(f"{url}/credentials", headers=admin)
    else:
        answer = await endpoint.app.client.delete(url, headers=admin)
    assert answer.status_code in (200, 204), answer.text

    async def forgotten() -> bool:
        return await device_for_token(endpoint.app.platform, token) is None

    await eventually(forgotten)
    assert await close_revoked(endpoint.app.platform, endpoint.registry) == [device_id]
    assert await device.disconnected() == Reason.NOT_AUTHORIZED
    await eventually(lambda: not endpoint.registry.is_connected(device_id))


async def test_mqtt_31_is_refused_as_unacceptable_version(endpoint: Endpoint) -> None:
    client = await RawClient.open(endpoint.port)
    try:
        # CONNECT of MQTT 3.1: protocol name "MQIsdp", level 3
        body = b"\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x01x"
        await client.send_bytes(bytes((0x10, len(body))) + body)
        assert await client.receive() == ConnAck(1)
        assert await client.closed_by_server()
    finally:
        client.close()


# -- bad input -----------------------------------------------------------------------------


async def test_bad_payload_5_is_refused_in_puback_and_connection_lives_on(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    device_id, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    before = counter("roadwatch_mqtt_rejected_total", reason="invalid_payload")
    assert await device.publish(TELEMETRY, b"{not json") == 0x99
    assert await device.publish(TELEMETRY, '{"speed": null}') == 0x99
    assert counter("roadwatch_mqtt_rejected_total", reason="invalid_payload") == before + 2
    assert await device.publish(TELEMETRY, '{"speed": 61}') == 0
    assert [p["value"] for p in await endpoint.points(device_id, "speed")] == [61]


async def test_bad_payload_311_is_not_acked_and_connection_lives_on(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    device_id, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_311)
    before = counter("roadwatch_mqtt_rejected_total", reason="invalid_payload")
    bad = device.send(TELEMETRY, b"[]")
    assert await device.publish(TELEMETRY, '{"speed": 33}') == 0
    # PUBACKs go out in order: had the bad one been acknowledged, it would be by now
    assert bad not in device.acks
    assert counter("roadwatch_mqtt_rejected_total", reason="invalid_payload") == before + 1
    assert [p["value"] for p in await endpoint.points(device_id, "speed")] == [33]


async def test_values_outside_the_profiles_range_are_refused_and_counted(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    app = endpoint.app
    admin = app.as_role(Role.ADMINISTRATOR)
    profile = await create_profile(app.client, admin)
    created = await create_device(app.client, admin, profile_id=profile["id"])

    async def profile_known() -> bool:
        url = f"/api/v1/{created['access_token']}/telemetry"
        # a probe on another key: stored if the profile is not known yet
        return (await app.client.post(url, json={"occupancy": 150})).status_code == 400

    await eventually(profile_known)
    device = await connected(endpoint, devices, created["access_token"], MQTT_5)
    before = counter("roadwatch_mqtt_rejected_total", reason="out_of_range")
    assert await device.publish(TELEMETRY, '{"speed": 999}') == 0x99
    assert counter("roadwatch_mqtt_rejected_total", reason="out_of_range") == before + 1
    assert await device.publish(TELEMETRY, '{"speed": 99}') == 0
    assert [p["value"] for p in await endpoint.points(created["id"], "speed")] == [99]


async def test_a_profile_without_mqtt_refuses_the_connection(endpoint: Endpoint) -> None:
    app = endpoint.app
    admin = app.as_role(Role.ADMINISTRATOR)
    profile = await create_profile(app.client, admin, transport={"protocols": ["http"]})
    created = await create_device(app.client, admin, profile_id=profile["id"])

    async def refused() -> bool:
        # the profile reaches telemetry by an event: the first attempts may precede it
        client = await RawClient.open(endpoint.port, MQTT_5)
        try:
            connack = await client.connect(created["access_token"])
            return bool(connack.reason == Reason.NOT_AUTHORIZED)
        finally:
            client.close()

    await eventually(refused)


async def test_unsupported_topic_is_refused_and_counted(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    _, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    before = counter("roadwatch_mqtt_rejected_total", reason="unsupported_topic")
    assert await device.publish("v1/devices/me/firmware", '{"a": 1}') == 0x90
    assert counter("roadwatch_mqtt_rejected_total", reason="unsupported_topic") == before + 1
    assert await device.publish(TELEMETRY, '{"a": 1}') == 0


async def test_malformed_packet_closes_the_connection(endpoint: Endpoint) -> None:
    _, token = await endpoint.new_device()
    for version in (MQTT_311, MQTT_5):
        client = await RawClient.open(endpoint.port, version)
        try:
            assert (await client.connect(token)).reason == 0
            # a PUBLISH whose topic length runs past the end of the packet
            await client.send_bytes(b"\x30\x03\x00\x09a")
            if version == MQTT_5:
                disconnect = await client.receive()
                assert isinstance(disconnect, Disconnect) and disconnect.reason == 0x81
            assert await client.closed_by_server()
        finally:
            client.close()


async def test_qos2_is_refused_with_qos_not_supported(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    _, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    assert device.connack_properties.MaximumQoS == 1
    device.send(TELEMETRY, '{"a": 1}', qos=2)
    assert await device.disconnected() == 0x9B


async def test_packet_over_the_limit_closes_the_connection(endpoint: Endpoint) -> None:
    _, token = await endpoint.new_device()
    client = await RawClient.open(endpoint.port, MQTT_5)
    try:
        connack = await client.connect(token)
        assert connack.properties.values[Prop.MAXIMUM_PACKET_SIZE] == 64 * 1024
        await client.send(Publish(TELEMETRY, b"x" * (64 * 1024), qos=1, packet_id=1))
        disconnect = await client.receive()
        assert isinstance(disconnect, Disconnect) and disconnect.reason == 0x95
        assert await client.closed_by_server()
    finally:
        client.close()


async def test_silence_past_one_and_a_half_keep_alives_disconnects(endpoint: Endpoint) -> None:
    _, token = await endpoint.new_device()
    client = await RawClient.open(endpoint.port, MQTT_5)
    try:
        assert (await client.connect(token, keep_alive=1)).reason == 0
        started = time.monotonic()
        disconnect = await client.receive()
        assert isinstance(disconnect, Disconnect) and disconnect.reason == 0x8D
        assert 1.4 < time.monotonic() - started < 5
    finally:
        client.close()


async def test_pings_keep_a_connection_alive(endpoint: Endpoint) -> None:
    _, token = await endpoint.new_device()
    client = await RawClient.open(endpoint.port, MQTT_311)
    try:
        assert (await client.connect(token, keep_alive=1)).reason == 0
        for _ in range(2):
            await client.send(PingReq())
            assert await client.receive() == PingResp()
            await asyncio.sleep(0.8)  # under 1.5 s each time, more than 1.5 s in all
        await client.send(Disconnect())
        assert await client.closed_by_server()
    finally:
        client.close()


# -- subscriptions and pushing to a device ---------------------------------------------------


@pytest.mark.parametrize("version", [MQTT_311, MQTT_5])
async def test_subscribed_device_receives_what_is_pushed_to_it(
    endpoint: Endpoint, devices: list[PahoDevice], version: int
) -> None:
    device_id, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, version)
    assert await device.subscribe(ATTRIBUTES, qos=2) == [1]  # granted at most QoS 1
    assert await device.subscribe("v1/devices/me/rpc/request/+", qos=0) == [0]
    registry = endpoint.registry
    assert await registry.publish_to_device(device_id, ATTRIBUTES, b'{"limit": 60}')
    message = await device.message()
    assert (message.topic, message.payload, message.qos) == (ATTRIBUTES, b'{"limit": 60}', 1)
    assert await registry.publish_to_device(device_id, "v1/devices/me/rpc/request/7", "{}")
    assert (await device.message()).topic == "v1/devices/me/rpc/request/7"
    # nothing matches, or nobody is there: not delivered
    assert not await registry.publish_to_device(device_id, "v1/devices/me/other", b"{}")
    assert not await registry.publish_to_device("no-such-device", ATTRIBUTES, b"{}")
    device.client.unsubscribe(ATTRIBUTES)

    async def unsubscribed() -> bool:
        return not await registry.publish_to_device(device_id, ATTRIBUTES, b"{}")

    await eventually(unsubscribed)


async def test_second_connection_of_a_device_takes_over(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    device_id, token = await endpoint.new_device()
    first = await connected(endpoint, devices, token, MQTT_5)
    first.client.reconnect_delay_set(60, 60)  # let it stay down once pushed out
    second = await connected(endpoint, devices, token, MQTT_5)
    assert await first.disconnected() == 0x8E
    assert await second.publish(TELEMETRY, '{"speed": 70}') == 0
    assert endpoint.registry.is_connected(device_id)


async def test_a_connected_device_is_online(endpoint: Endpoint, devices: list[PahoDevice]) -> None:
    device_id, token = await endpoint.new_device()
    admin = endpoint.app.as_role(Role.ADMINISTRATOR)
    url = f"/api/v1/telemetry/{device_id}/status"
    assert (await endpoint.app.client.get(url, headers=admin)).json()["online"] is False
    await connected(endpoint, devices, token, MQTT_311)
    status = (await endpoint.app.client.get(url, headers=admin)).json()
    assert status["online"] is True
    assert status["last_activity_ts"] is not None


async def test_connected_clients_gauge_follows_connections(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    _, token = await endpoint.new_device()
    before = counter("roadwatch_mqtt_connected_clients")
    device = await connected(endpoint, devices, token, MQTT_311)
    assert counter("roadwatch_mqtt_connected_clients") == before + 1
    await device.close()
    devices.remove(device)
    await eventually(lambda: counter("roadwatch_mqtt_connected_clients") == before)


async def test_v5_connack_tells_the_client_the_limits(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    _, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    props = device.connack_properties
    assert props.MaximumQoS == 1
    assert props.MaximumPacketSize == 64 * 1024
    assert props.ReceiveMaximum == MqttSettings().receive_maximum
    assert props.SharedSubscriptionAvailable == 0
    assert props.AssignedClientIdentifier  # paho sent an empty client id


async def test_closing_the_server_tells_v5_clients_it_shuts_down(
    endpoint: Endpoint, devices: list[PahoDevice]
) -> None:
    _, token = await endpoint.new_device()
    device = await connected(endpoint, devices, token, MQTT_5)
    device.client.reconnect_delay_set(60, 60)
    await endpoint.server.close()
    assert await device.disconnected() == 0x8B


# -- when the database is down --------------------------------------------------------------


async def test_nothing_is_acked_while_the_database_is_down_and_the_device_resends(
    distributed_backend: Backend, tcp_proxy: type[TcpProxy], devices: list[PahoDevice]
) -> None:
    database = tcp_proxy("127.0.0.1", PG_PORT)
    await database.start()
    url = with_port(distributed_backend.database_url, database.port)
    async with serving(distributed_backend, database_url=url) as endpoint:
        device_id, token = await endpoint.new_device()
        device = await connected(endpoint, devices, token, MQTT_5)
        device.client.reconnect_delay_set(1, 1)
        before = counter("roadwatch_mqtt_rejected_total", reason="store_failed")
        await database.cut()
        mid = device.send(TELEMETRY, '{"ts": 1700000000000, "values": {"speed": 12}}')
        # not stored, so not acknowledged: the server hangs up, saying it is busy
        assert await device.disconnected() == 0x89
        assert mid not in device.acks
        assert counter("roadwatch_mqtt_rejected_total", reason="store_failed") == before + 1
        await database.restore()
        # paho reconnects by itself and sends the unacknowledged message again
        assert await device.acked(mid) == 0
        assert await endpoint.points(device_id, "speed") == [{"ts": 1700000000000, "value": 12}]


# -- as the app runs it ---------------------------------------------------------------------


async def test_app_serves_mqtt_on_the_configured_port_until_it_stops(
    backend: Backend, devices: list[PahoDevice]
) -> None:
    port = free_port()
    async with run_app(backend.settings(mqtt={"port": port})) as app:
        # listening before the app is ready, and part of its readiness
        ready = await app.client.get("/health/ready")
        assert ready.json()["checks"]["mqtt"] == "up"
        device_id, token = await new_device(app)
        device = PahoDevice(port, token, MQTT_5)
        devices.append(device)
        assert await device.connect() == 0
        device.client.reconnect_delay_set(60, 60)
        assert await device.publish(TELEMETRY, '{"speed": 50}') == 0
        assert [p["value"] for p in await stored_points(app, device_id, "speed")] == [50]
    # the app's shutdown ended the connection, and told the device why
    assert await device.disconnected() == 0x8B


async def test_a_port_that_cannot_be_bound_stops_start_up(embedded_backend: Backend) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        expected = f"ROADWATCH_MQTT__PORT: cannot listen on 127.0.0.1:{port}"
        with pytest.raises(ConfigError, match=expected):
            async with run_app(embedded_backend.settings(mqtt={"port": port})):
                pass


# -- ThingsBoard's own SDK ------------------------------------------------------------------


async def test_thingsboard_sdk_sends_telemetry_unchanged(endpoint: Endpoint) -> None:
    device_id, token = await endpoint.new_device()
    client = tb_device_mqtt.TBDeviceMqttClient("127.0.0.1", port=endpoint.port, username=token)
    try:
        await asyncio.to_thread(client.connect)
        await eventually(client.is_connected)
        info = await asyncio.to_thread(client.send_telemetry, {"speed": 48.5, "flow": 7})
        assert await asyncio.to_thread(info.get) == 0
        assert [p["value"] for p in await endpoint.points(device_id, "speed")] == [48.5]
    finally:
        client.stop()
        await asyncio.to_thread(client.disconnect)


# -- the codec ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
        (2097151, b"\xff\xff\x7f"),
        (2097152, b"\x80\x80\x80\x01"),
        (268435455, b"\xff\xff\xff\x7f"),
    ],
)
def test_variable_byte_integer_edges(value: int, encoded: bytes) -> None:
    assert encode_varint(value) == encoded
    assert decode_varint(encoded + b"tail") == (value, len(encoded))


def test_variable_byte_integer_limits() -> None:
    with pytest.raises(ValueError):
        encode_varint(268435456)
    with pytest.raises(ValueError):
        encode_varint(-1)
    with pytest.raises(MalformedPacket):
        decode_varint(b"\xff\xff\xff\xff\x01")  # a fifth byte
    with pytest.raises(MalformedPacket):
        decode_varint(b"\x80")  # runs out


def _props() -> Properties:
    return Properties(
        {Prop.REASON_STRING: "why", Prop.MESSAGE_EXPIRY_INTERVAL: 60},
        user=[("a", "1"), ("a", "2")],
    )


ROUND_TRIPS: list[tuple[int, Packet]] = [
    (MQTT_311, Connect(MQTT_311, "c1", 60, True, "token", b"pw")),
    (
        MQTT_311,
        Connect(MQTT_311, "", 0, True, None, None, Will("w/t", b"bye", 1, True)),
    ),
    (
        MQTT_5,
        Connect(
            MQTT_5,
            "c5",
            30,
            False,
            "token",
            None,
            Will("w", b"", 0, False, Properties({Prop.WILL_DELAY_INTERVAL: 5})),
            Properties({Prop.RECEIVE_MAXIMUM: 10, Prop.MAXIMUM_PACKET_SIZE: 1 << 20}),
        ),
    ),
    (MQTT_311, ConnAck(0, True)),
    (MQTT_311, ConnAck(5)),
    (MQTT_5, ConnAck(0x87, False, Properties({Prop.REASON_STRING: "no"}))),
    (MQTT_5, ConnAck(0, False, Properties({Prop.MAXIMUM_QOS: 1, Prop.RECEIVE_MAXIMUM: 64}))),
    (MQTT_311, Publish("a/b", b"payload")),
    (MQTT_311, Publish("a/b", b"", 1, True, True, 65535)),
    (MQTT_5, Publish("t", b"\x00\xff", 1, False, False, 7, _props())),
    (MQTT_5, Publish("t", b"x", properties=Properties(subscription_ids=[1, 268435455]))),
    (MQTT_311, PubAck(1)),
    (MQTT_5, PubAck(2)),
    (MQTT_5, PubAck(3, 0x99)),
    (MQTT_5, PubAck(4, 0x99, Properties({Prop.REASON_STRING: "bad json"}))),
    (MQTT_311, PubAck(5, kind=PacketType.PUBREC)),
    (MQTT_311, PubAck(6, kind=PacketType.PUBREL)),
    (MQTT_5, PubAck(7, 0x92, kind=PacketType.PUBCOMP)),
    (MQTT_311, Subscribe(9, [Subscription("a/+", 1), Subscription("#", 0)])),
    (MQTT_5, Subscribe(9, [Subscription("a/#", 2, True, True, 2)], _props())),
    (MQTT_311, SubAck(9, [0, 1, 0x80])),
    (MQTT_5, SubAck(9, [1, 0x8F, 0x9E], _props())),
    (MQTT_311, Unsubscribe(10, ["a", "b/+"])),
    (MQTT_5, Unsubscribe(10, ["a"], _props())),
    (MQTT_311, UnsubAck(10)),
    (MQTT_5, UnsubAck(10, [0, 0x11])),
    (MQTT_311, PingReq()),
    (MQTT_311, PingResp()),
    (MQTT_311, Disconnect()),
    (MQTT_5, Disconnect()),
    (MQTT_5, Disconnect(0x8B)),
    (MQTT_5, Disconnect(0x04, _props())),
    (MQTT_5, Auth()),
    (MQTT_5, Auth(0x18, Properties({Prop.AUTHENTICATION_METHOD: "m"}))),
]


@pytest.mark.parametrize(("version", "packet"), ROUND_TRIPS)
def test_every_packet_survives_a_round_trip(version: int, packet: Packet) -> None:
    frame = encode(packet, version)
    length, start = decode_varint(frame, 1)
    assert length == len(frame) - start
    assert decode(frame[0], frame[start:], version) == packet


@pytest.mark.parametrize(
    ("packet", "version", "expected"),
    [
        # bytes as the specifications spell them out
        (PingReq(), MQTT_311, b"\xc0\x00"),
        (PingResp(), MQTT_311, b"\xd0\x00"),
        (Disconnect(), MQTT_311, b"\xe0\x00"),
        (Disconnect(), MQTT_5, b"\xe0\x00"),
        (ConnAck(0), MQTT_311, b"\x20\x02\x00\x00"),
        (ConnAck(0), MQTT_5, b"\x20\x03\x00\x00\x00"),
        (PubAck(10), MQTT_311, b"\x40\x02\x00\x0a"),
        (PubAck(10), MQTT_5, b"\x40\x02\x00\x0a"),
        (PubAck(10, 0x99), MQTT_5, b"\x40\x03\x00\x0a\x99"),
        (SubAck(1, [1]), MQTT_311, b"\x90\x03\x00\x01\x01"),
        (UnsubAck(1), MQTT_311, b"\xb0\x02\x00\x01"),
        (Publish("a", b"x", 1, packet_id=1), MQTT_311, b"\x32\x06\x00\x01a\x00\x01x"),
    ],
)
def test_encoding_matches_the_specification(packet: Packet, version: int, expected: bytes) -> None:
    assert encode(packet, version) == expected


@pytest.mark.parametrize(
    ("frame", "version"),
    [
        (b"\x00\x00", MQTT_311),  # packet type 0
        (b"\xc1\x00", MQTT_311),  # PINGREQ with a reserved flag set
        (b"\x80\x05\x00\x01\x00\x01a", MQTT_311),  # SUBSCRIBE without its 0010 flags
        (b"\x36\x05\x00\x01a\x00\x01", MQTT_311),  # PUBLISH at QoS 3
        (b"\x38\x03\x00\x01a", MQTT_311),  # DUP on QoS 0
        (b"\x32\x05\x00\x01a\x00\x00", MQTT_311),  # packet identifier 0
        (b"\x30\x04\x00\x02a\x00", MQTT_311),  # topic with U+0000
        (b"\x30\x04\x00\x02\xc3\x28", MQTT_311),  # topic that is not UTF-8
        (b"\x82\x02\x00\x01", MQTT_311),  # SUBSCRIBE without a filter
        (b"\x82\x06\x00\x01\x00\x01a\x04", MQTT_311),  # 3.1.1 option bits that are reserved
        (b"\x82\x07\x00\x01\x00\x00\x01a\x30", MQTT_5),  # retain handling 3
        (b"\xc0\x01\x00", MQTT_311),  # PINGREQ with a body
        (b"\x40\x03\x00\x01\x00", MQTT_311),  # 3.1.1 PUBACK with a reason code
        (b"\x30\x06\x00\x01a\x02\x63\x00", MQTT_5),  # unknown property 0x63
        (b"\x30\x08\x00\x01a\x04\x01\x01\x01\x01", MQTT_5),  # property given twice
        (b"\x30\x06\x00\x01a\x02\x01\x05", MQTT_5),  # payload format indicator 5
        (b"\x30\x05\x00\x01a\x05\x01", MQTT_5),  # properties longer than the packet
        (b"\xf0\x00", MQTT_311),  # AUTH outside MQTT 5
        (b"\x10\x0c\x00\x04MQTT\x04\x01\x00\x3c\x00\x00", MQTT_311),  # reserved CONNECT flag
        (b"\x10\x0c\x00\x04MQTT\x04\x40\x00\x3c\x00\x00", MQTT_311),  # password, no user
        (b"\x10\x0c\x00\x04MQTT\x04\x18\x00\x3c\x00\x00", MQTT_311),  # will QoS 3
        (b"\x10\x0c\x00\x04MQTX\x04\x02\x00\x3c\x00\x00", MQTT_311),  # protocol name
    ],
)
def test_malformed_packets_are_refused(frame: bytes, version: int) -> None:
    length, start = decode_varint(frame, 1)
    assert length == len(frame) - start, "test frame has the wrong remaining length"
    with pytest.raises(MalformedPacket):
        decode(frame[0], frame[start:], version)


async def test_frame_over_the_limit_is_refused_before_its_body_is_read() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"\x30" + encode_varint(10_000))  # no body follows: never read
    with pytest.raises(PacketTooLarge):
        await read_frame(reader, 4096)


async def test_remaining_length_of_five_bytes_is_malformed() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"\x30\xff\xff\xff\xff\x01")
    with pytest.raises(MalformedPacket):
        await read_frame(reader, 1 << 30)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("v1/devices/me/attributes", "v1/devices/me/attributes", True),
        ("v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/42", True),
        ("v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/42/x", False),
        ("v1/devices/me/attributes/response/+", "v1/devices/me/attributes", False),
        ("v1/#", "v1/devices/me/attributes", True),
        ("v1/devices/#", "v1/devices", True),
        ("#", "$SYS/x", False),
        ("+/x", "$SYS/x", False),
        ("+/+", "/x", True),
    ],
)
def test_topic_matching(topic_filter: str, topic: str, expected: bool) -> None:
    assert matches(topic_filter, topic) is expected


@pytest.mark.parametrize("topic_filter", ["", "a/#/b", "a#", "a/b+", "+a"])
def test_invalid_topic_filters(topic_filter: str) -> None:
    assert not valid_filter(topic_filter)
