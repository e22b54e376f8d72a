"""What one connection sends its device: packets, within the limits the client set, and
messages pushed to it that wait for their PUBACK.

Writing never raises: a connection that cannot be written to is marked broken, and the
reader then sees it end.
"""

from __future__ import annotations

import asyncio

from roadwatch.telemetry.mqtt.codec import encode
from roadwatch.telemetry.mqtt.packets import MQTT_5, MQTT_311, Disconnect, Packet, Publish, Reason
from roadwatch.telemetry.mqtt.properties import Prop, Properties
from roadwatch.telemetry.mqtt.settings import MqttSettings

_NO_LIMIT = 1 << 32
_MAX_PACKET_ID = 65_535


class Hangup(Exception):
    """End the connection: `reason` goes in an MQTT 5 DISCONNECT, `cause` is a metric label."""

    def __init__(self, cause: str, reason: int, detail: str) -> None:
        super().__init__(detail)
        self.cause = cause
        self.reason = reason
        self.detail = detail


class Outbound:
    def __init__(self, writer: asyncio.StreamWriter, settings: MqttSettings) -> None:
        self.writer = writer
        self.settings = settings
        self.version = MQTT_311
        self.broken = False
        # MQTT 5: what the client said it takes (3.1.2.11)
        self._problem_info = True
        self._max_packet = _NO_LIMIT
        self._push_slots = asyncio.Semaphore(_MAX_PACKET_ID)
        self._awaiting_ack: dict[int, asyncio.Future[int]] = {}
        self._last_packet_id = 0

    def configure(self, version: int, connect_properties: Properties) -> None:
        self.version = version
        if version == MQTT_5:
            props = connect_properties
            self._problem_info = props.get_int(Prop.REQUEST_PROBLEM_INFORMATION, 1) == 1
            self._max_packet = props.get_int(Prop.MAXIMUM_PACKET_SIZE, _NO_LIMIT)
            self._push_slots = asyncio.Semaphore(
                props.get_int(Prop.RECEIVE_MAXIMUM, _MAX_PACKET_ID)
            )

    def reason_string(self, detail: str, always: bool = False) -> Properties:
        """A Reason String property, unless the client asked for none (3.1.2.11.7: it may
        not refuse them on CONNACK and DISCONNECT, hence `always`)."""
        props = Properties()
        if self.version == MQTT_5 and detail and (always or self._problem_info):
            props.values[Prop.REASON_STRING] = detail[:512]
        return props

    def write(self, packet: Packet) -> bool:
        """Put a packet in the transport's buffer without waiting; False if it cannot go."""
        if self.broken or self.writer.is_closing():
            self.broken = True
            return False
        data = encode(packet, self.version)
        if len(data) > self._max_packet:
            # never more than the client takes (3.1.2.11.4): reason strings give way first
            props = getattr(packet, "properties", None)
            if isinstance(packet, Publish) or not props:
                return False
            props.values.pop(Prop.REASON_STRING, None)
            props.user.clear()
            data = encode(packet, self.version)
        self.writer.write(data)
        return True

    async def send(self, packet: Packet) -> bool:
        """Write a packet and wait until the transport has taken it."""
        if not self.write(packet):
            return False
        return await self.flush()

    async def flush(self) -> bool:
        """Wait until the transport has taken what was written (False if it never will)."""
        if self.broken:
            return False
        try:
            async with asyncio.timeout(self.settings.write_timeout_s):
                await self.writer.drain()
        except (TimeoutError, OSError):
            # a device that does not read is disconnected rather than buffered for
            self.broken = True
            self.writer.transport.abort()
            return False
        return True

    async def disconnect(self, reason: int, detail: str) -> None:
        if self.version == MQTT_5:
            await self.send(Disconnect(reason, self.reason_string(detail, always=True)))
        self.broken = True

    def disconnect_now(self, reason: int) -> None:
        """For where awaiting is not possible (being cancelled): the bytes leave as the
        transport closes."""
        if self.version == MQTT_5:
            self.write(Disconnect(reason))
        self.broken = True

    # -- messages pushed to the device -------------------------------------------------------

    async def push(self, topic: str, payload: bytes, qos: int) -> bool:
        """Send an application message; at QoS 1, True only once the device acknowledged it."""
        if qos == 0:
            return await self.send(Publish(topic, payload))
        async with self._push_slots:  # the client's Receive Maximum
            packet_id = self._next_packet_id()
            ack: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._awaiting_ack[packet_id] = ack
            try:
                if not await self.send(Publish(topic, payload, qos=1, packet_id=packet_id)):
                    return False
                async with asyncio.timeout(self.settings.push_ack_timeout_s):
                    return await ack < Reason.UNSPECIFIED_ERROR
            except TimeoutError:
                return False
            finally:
                self._awaiting_ack.pop(packet_id, None)

    def acknowledged(self, packet_id: int, reason: int) -> None:
        ack = self._awaiting_ack.get(packet_id)
        if ack is not None and not ack.done():
            ack.set_result(reason)

    def fail_pushes(self) -> None:
        for ack in self._awaiting_ack.values():
            if not ack.done():
                ack.set_result(Reason.UNSPECIFIED_ERROR)

    def _next_packet_id(self) -> int:
        # the semaphore lets at most 65535 pushes wait for a PUBACK, so an id is free
        while True:
            self._last_packet_id = self._last_packet_id % _MAX_PACKET_ID + 1
            if self._last_packet_id not in self._awaiting_ack:
                return self._last_packet_id
