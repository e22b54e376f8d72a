"""Bridge mode: device messages from a site's existing MQTT broker (e.g. its Mosquitto).

Devices publish to `<prefix>/<access token>/telemetry` or `<prefix>/<access token>/attributes`
there. The bridge is an MQTT 3.1.1 client of that broker, written on our own codec so it
stays in the event loop: it subscribes at QoS 1 in a persistent session (clean session off,
a fixed client id), so what devices send while roadwatch is down waits in the broker. Each
message is acknowledged to the broker only once its points are committed; messages read
together are stored in one transaction. A message that can never be stored (unknown token,
bad payload, out of range) is counted, logged and acknowledged, so the broker does not
offer it forever. If storing fails, nothing more is acknowledged and the connection is
dropped: the broker sends the unacknowledged messages again after the reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from roadwatch.config import MqttBridgeSettings
from roadwatch.platform.errors import DomainError, is_unavailable
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.attributes import Scope, parse_attributes, set_attributes
from roadwatch.telemetry.directory import DeviceRef, device_for_token
from roadwatch.telemetry.mqtt import metrics
from roadwatch.telemetry.mqtt.codec import decode, encode, read_frame
from roadwatch.telemetry.mqtt.packets import (
    MQTT_311,
    ConnAck,
    Connect,
    Packet,
    PingReq,
    PingResp,
    PubAck,
    Publish,
    SubAck,
    Subscribe,
    Subscription,
)
from roadwatch.telemetry.points import InvalidPayload, Point, Value, parse_points
from roadwatch.telemetry.profiles import ValueOutOfRange, rules_for
from roadwatch.telemetry.status import note_activity
from roadwatch.telemetry.store import store_batches

log = logging.getLogger(__name__)

MAX_PACKET_BYTES = 1 << 20
# messages stored in one transaction at most
MAX_BATCH = 1000
KINDS = ("telemetry", "attributes")


class BrokerRefused(Exception):
    pass


@dataclass(slots=True)
class _Message:
    publish: Publish
    now_ms: int


def subscriptions(settings: MqttBridgeSettings) -> list[str]:
    filters = [f"{settings.topic_prefix}/+/{kind}" for kind in KINDS]
    if settings.share_group:
        return [f"$share/{settings.share_group}/{f}" for f in filters]
    return filters


class Bridge:
    def __init__(self, platform: Platform, settings: MqttBridgeSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.prefix_levels = len(settings.topic_prefix.split("/"))
        self.writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        """Hold the session with the broker until cancelled, reconnecting after failures."""
        while True:
            try:
                await self._session()
            except (OSError, asyncio.IncompleteReadError, BrokerRefused, TimeoutError) as exc:
                log.warning("mqtt bridge: %s:%d: %r", self.settings.host, self.settings.port, exc)
            except Exception as exc:
                # a store that failed (logged where it happened), or a malformed packet
                if not is_unavailable(exc):
                    log.exception("mqtt bridge: session ended")
            finally:
                metrics.BRIDGE_CONNECTED.set(0)
                if self.writer is not None:
                    self.writer.close()
                    self.writer = None
            await asyncio.sleep(self.settings.reconnect_delay_s)

    async def _send(self, packet: Packet) -> None:
        assert self.writer is not None
        self.writer.write(encode(packet, MQTT_311))
        await self.writer.drain()

    async def _session(self) -> None:
        s = self.settings
        reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(s.host, s.port, limit=MAX_PACKET_BYTES), timeout=10
        )
        await self._send(
            Connect(
                MQTT_311,
                s.client_id,
                s.keep_alive_s,
                clean_start=False,
                username=s.username,
                password=s.password.encode() if s.password else None,
            )
        )
        connack = decode(*await read_frame(reader, MAX_PACKET_BYTES), MQTT_311)
        if not isinstance(connack, ConnAck) or connack.reason != 0:
            raise BrokerRefused(f"the broker refused the connection: {connack}")
        filters = subscriptions(s)
        await self._send(Subscribe(1, [Subscription(f, 1) for f in filters]))
        metrics.BRIDGE_CONNECTED.set(1)
        log.info("mqtt bridge: subscribed to %s on %s:%d", ", ".join(filters), s.host, s.port)
        queue: asyncio.Queue[_Message] = asyncio.Queue(MAX_BATCH)
        storing = asyncio.create_task(self._store_loop(queue))
        pinging = asyncio.create_task(self._ping_loop())
        try:
            while not storing.done():
                read = asyncio.create_task(read_frame(reader, MAX_PACKET_BYTES))
                await asyncio.wait({read, storing}, return_when=asyncio.FIRST_COMPLETED)
                if storing.done():
                    read.cancel()
                    break
                packet = decode(*read.result(), MQTT_311)
                if isinstance(packet, Publish):
                    await queue.put(_Message(packet, int(time.time() * 1000)))
                elif isinstance(packet, SubAck) and any(code >= 0x80 for code in packet.reasons):
                    raise BrokerRefused(f"the broker refused the subscriptions {filters}")
                elif not isinstance(packet, SubAck | PingResp | PubAck):
                    log.info("mqtt bridge: ignoring %s from the broker", type(packet).__name__)
            storing.result()
        finally:
            for task in (storing, pinging):
                task.cancel()
            await asyncio.gather(storing, pinging, return_exceptions=True)

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.keep_alive_s / 2)
            await self._send(PingReq())

    async def _store_loop(self, queue: asyncio.Queue[_Message]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < MAX_BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            await self._store(batch)
            for message in batch:
                if message.publish.packet_id is not None:
                    await self._send(PubAck(message.publish.packet_id))

    def _address(self, topic: str) -> tuple[str, str] | None:
        """(access token, kind) of a bridged topic."""
        levels = topic.split("/")
        if len(levels) != self.prefix_levels + 2 or levels[-1] not in KINDS:
            return None
        return levels[self.prefix_levels], levels[-1]

    async def _store(self, batch: list[_Message]) -> None:
        devices: dict[str, DeviceRef | None] = {}
        points: dict[str, list[Point]] = {}
        attributes: list[tuple[str, dict[str, Value], int]] = []
        outcomes: list[str] = []
        max_future_ms = self.platform.settings.telemetry.max_future_s * 1000
        for message in batch:
            address = self._address(message.publish.topic)
            if address is None:
                outcomes.append("unsupported_topic")
                continue
            token, kind = address
            if token not in devices:
                devices[token] = await device_for_token(self.platform, token)
            device = devices[token]
            if device is None:
                outcomes.append("unknown_token")
                continue
            if kind == "attributes":
                try:
                    values = parse_attributes(message.publish.payload)
                except DomainError as exc:
                    outcomes.append("invalid_payload")
                    log.warning("mqtt bridge: attributes refused: %s", exc.detail)
                    continue
                attributes.append((device.id, values, message.now_ms))
                outcomes.append("stored")
                continue
            try:
                taken = parse_points(message.publish.payload, message.now_ms, max_future_ms)
                (await rules_for(self.platform, device.profile_id)).check(taken)
            except ValueOutOfRange as exc:
                outcomes.append("out_of_range")
                log.warning("mqtt bridge: message refused: %s", exc.detail)
                continue
            except InvalidPayload as exc:
                outcomes.append("invalid_payload")
                log.warning("mqtt bridge: message refused: %s", exc.detail)
                continue
            points.setdefault(device.id, []).extend(taken)
            outcomes.append("stored")
        try:
            await store_batches(self.platform, points, source="mqtt-bridge")
            for device_id, values, now_ms in attributes:
                actor = f"device:{device_id}"
                await set_attributes(self.platform, device_id, Scope.CLIENT, values, actor, now_ms)
        except Exception as exc:
            log.log(
                logging.WARNING if is_unavailable(exc) else logging.ERROR,
                "mqtt bridge: storing failed, the broker will send again: %r",
                exc,
                exc_info=not is_unavailable(exc),
            )
            raise
        for outcome in outcomes:
            metrics.BRIDGED.labels(outcome).inc()
        for device_id in {d.id for d in devices.values() if d is not None}:
            await note_activity(self.platform, device_id)


async def run_mqtt_bridge(platform: Platform) -> None:
    """The telemetry module's task: the bridge, when ROADWATCH_MQTT_BRIDGE__ENABLED."""
    settings = platform.settings.mqtt_bridge
    if not settings.enabled:
        return
    await Bridge(platform, settings).run()
