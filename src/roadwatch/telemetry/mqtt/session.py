"""One device's MQTT connection: the CONNECT handshake, then two tasks until it ends.

The reader answers control packets at once and queues PUBLISHes for the inbound loop
(inbound.py), which handles them in order and acknowledges each once it is durable. The
queue is bounded: when it is full the reader stops reading, and TCP slows the device down.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from roadwatch.platform.auth.digests import secret_digest
from roadwatch.platform.errors import is_unavailable
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry.ingest import DeviceRef, device_for_token
from roadwatch.telemetry.mqtt import metrics, topics
from roadwatch.telemetry.mqtt.codec import UnsupportedVersion, decode, read_frame
from roadwatch.telemetry.mqtt.inbound import Inbound, Received
from roadwatch.telemetry.mqtt.outbound import Hangup, Outbound
from roadwatch.telemetry.mqtt.packets import (
    MQTT_5,
    MQTT_311,
    ConnAck,
    Connect,
    ConnectReturn,
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
    UnsubAck,
    Unsubscribe,
)
from roadwatch.telemetry.mqtt.properties import Prop, Properties
from roadwatch.telemetry.mqtt.settings import MqttSettings
from roadwatch.telemetry.mqtt.wire import MALFORMED, MalformedPacket, ProtocolError
from roadwatch.telemetry.profiles import rules_for

if TYPE_CHECKING:
    from roadwatch.telemetry.mqtt.registry import SessionRegistry

log = logging.getLogger(__name__)


def _hangup_for(exc: MalformedPacket) -> Hangup:
    causes = {Reason.PACKET_TOO_LARGE: "packet_too_large", MALFORMED: "malformed"}
    return Hangup(causes.get(exc.reason, "protocol_error"), exc.reason, str(exc))


class Session:
    def __init__(
        self,
        platform: Platform,
        settings: MqttSettings,
        registry: SessionRegistry,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.platform = platform
        self.settings = settings
        self.registry = registry
        self.reader = reader
        self.out = Outbound(writer, settings)
        self.version = MQTT_311
        self.client_id = ""
        self.keep_alive = 0
        # topic filter -> granted QoS
        self.subscriptions: dict[str, int] = {}
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self._device: DeviceRef | None = None
        # the digest of the token it connected with: a rotated or revoked token ends it
        self.token_hash = ""
        self._inbound: Inbound | None = None
        self._task: asyncio.Task[Any] | None = None
        self._reading: asyncio.Task[str] | None = None
        self._kicked: str | None = None

    @property
    def device(self) -> DeviceRef:
        assert self._device is not None, "not connected"
        return self._device

    # -- lifecycle --------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it ends; returns normally unless cancelled."""
        self._task = asyncio.current_task()
        try:
            connect = await self._read_connect()
            if connect is not None and await self._authenticate(connect):
                await self._connected(connect)
        finally:
            self.out.writer.close()

    async def _connected(self, connect: Connect) -> None:
        self._inbound = Inbound(
            self.platform,
            self.device,
            self.out,
            self.push,
            self._log_fields,
            self.settings.receive_maximum,
        )
        previous = self.registry.add(self.device.id, self)
        metrics.CONNECTED.inc()
        cause = "connection_lost"
        try:
            if previous is not None:
                previous.kick(Reason.SESSION_TAKEN_OVER, "taken_over")
            metrics.CONNECTS.labels("accepted").inc()
            # online before it is told it is connected, so the two are never seen apart
            await self._inbound.note_activity()
            # sessions are never kept between connections: session present is always 0
            await self.out.send(ConnAck(Reason.SUCCESS, False, self._connack_properties(connect)))
            log.info("mqtt: device connected", extra=self._log_fields())
            cause = self._kicked or await self._serve()
        except Hangup as close:
            cause = close.cause
            log.warning("mqtt: closing connection: %s", close.detail, extra=self._log_fields())
            await self.out.disconnect(close.reason, close.detail)
        except asyncio.CancelledError:
            cause = self._kicked or "shutdown"
            if self._kicked is None:
                self.out.disconnect_now(Reason.SERVER_SHUTTING_DOWN)
            raise
        finally:
            cause = self._kicked or cause
            self.registry.remove(self.device.id, self)
            self.out.fail_pushes()
            metrics.CONNECTED.dec()
            metrics.DISCONNECTS.labels(cause).inc()
            log.info("mqtt: device disconnected (%s)", cause, extra=self._log_fields())

    def kick(self, reason: int, cause: str) -> None:
        """End this session from outside: taken over, or the server is stopping.

        Only the reading stops; what was read is still stored (unacknowledged, as the
        device is told goodbye first), so no database work is cancelled half-way.
        """
        self._kicked = cause
        self.out.disconnect_now(reason)
        if self._reading is not None:
            self._reading.cancel()
        elif self._task is not None:
            self._task.cancel()

    def _log_fields(self) -> dict[str, Any]:
        return {
            "peer": self.peer,
            "client_id": self.client_id,
            "device_id": self._device.id if self._device else None,
            "mqtt_version": "5" if self.version == MQTT_5 else "3.1.1",
        }

    # -- handshake --------------------------------------------------------------------------

    async def _read_connect(self) -> Connect | None:
        try:
            async with asyncio.timeout(self.settings.connect_timeout_s):
                first, body = await read_frame(self.reader, self.settings.max_packet_bytes)
            if first >> 4 != PacketType.CONNECT:
                raise ProtocolError("the first packet must be CONNECT")
            connect = decode(first, body, MQTT_311)
            assert isinstance(connect, Connect)
        except UnsupportedVersion as exc:
            # answered in 3.1.1's format, which clients of every version can read
            metrics.CONNECTS.labels("unsupported_version").inc()
            log.info("mqtt: refused protocol level %d from %s", exc.level, self.peer)
            await self.out.send(ConnAck(ConnectReturn.UNACCEPTABLE_PROTOCOL_VERSION))
            return None
        except (TimeoutError, MalformedPacket, asyncio.IncompleteReadError, OSError) as exc:
            metrics.CONNECTS.labels("no_valid_connect").inc()
            log.info("mqtt: no valid CONNECT from %s: %r", self.peer, exc)
            return None
        self.version = connect.protocol_level
        self.client_id = connect.client_id
        self.keep_alive = connect.keep_alive
        self.out.configure(self.version, connect.properties)
        return connect

    async def _refuse(self, code_311: int, reason_5: int, result: str, detail: str) -> bool:
        metrics.CONNECTS.labels(result).inc()
        log.info("mqtt: connection refused: %s", detail, extra=self._log_fields())
        if self.version == MQTT_5:
            props = self.out.reason_string(detail, always=True)
            await self.out.send(ConnAck(reason_5, properties=props))
        else:
            await self.out.send(ConnAck(code_311))
        return False

    async def _authenticate(self, connect: Connect) -> bool:
        """Whether the device may connect; if not, it has been told why."""
        if Prop.AUTHENTICATION_METHOD in connect.properties.values:
            return await self._refuse(
                0,
                Reason.BAD_AUTHENTICATION_METHOD,
                "bad_auth_method",
                "enhanced authentication is not supported; send the access token as user name",
            )
        if not connect.client_id and self.version == MQTT_311 and not connect.clean_start:
            return await self._refuse(
                ConnectReturn.IDENTIFIER_REJECTED,
                Reason.CLIENT_IDENTIFIER_NOT_VALID,
                "identifier_rejected",
                "an empty client id needs clean session",
            )
        if not connect.username:
            return await self._refuse(
                ConnectReturn.BAD_USERNAME_OR_PASSWORD,
                Reason.BAD_USERNAME_OR_PASSWORD,
                "bad_credentials",
                "the device access token goes in the user name",
            )
        try:
            self._device = await device_for_token(self.platform, connect.username)
            rules = await rules_for(
                self.platform, self._device.profile_id if self._device else None
            )
        except Exception as exc:
            log.log(
                logging.WARNING if is_unavailable(exc) else logging.ERROR,
                "mqtt: cannot check an access token: %r",
                exc,
                exc_info=not is_unavailable(exc),
            )
            return await self._refuse(
                ConnectReturn.SERVER_UNAVAILABLE,
                Reason.SERVER_UNAVAILABLE,
                "unavailable",
                "the device directory cannot be reached; retry later",
            )
        if self._device is None:
            return await self._refuse(
                ConnectReturn.NOT_AUTHORIZED,
                Reason.NOT_AUTHORIZED,
                "not_authorized",
                "unknown or revoked access token",
            )
        self.token_hash = secret_digest(connect.username)
        if "mqtt" not in rules.protocols:
            return await self._refuse(
                ConnectReturn.NOT_AUTHORIZED,
                Reason.NOT_AUTHORIZED,
                "protocol_not_allowed",
                f"device profile {rules.name!r} does not allow MQTT",
            )
        return True

    def _connack_properties(self, connect: Connect) -> Properties:
        props = Properties()
        if self.version != MQTT_5:
            return props
        props.values[Prop.MAXIMUM_QOS] = 1
        props.values[Prop.MAXIMUM_PACKET_SIZE] = self.settings.max_packet_bytes
        props.values[Prop.RECEIVE_MAXIMUM] = self.settings.receive_maximum
        props.values[Prop.SUBSCRIPTION_IDENTIFIER_AVAILABLE] = 0
        props.values[Prop.SHARED_SUBSCRIPTION_AVAILABLE] = 0
        if connect.properties.get_int(Prop.SESSION_EXPIRY_INTERVAL, 0):
            # the session ends with the connection, whatever the client asked for
            props.values[Prop.SESSION_EXPIRY_INTERVAL] = 0
        if not connect.client_id:
            self.client_id = f"roadwatch-{uuid.uuid4().hex}"
            props.values[Prop.ASSIGNED_CLIENT_IDENTIFIER] = self.client_id
        return props

    # -- connected --------------------------------------------------------------------------

    @property
    def inbound(self) -> Inbound:
        assert self._inbound is not None, "not connected"
        return self._inbound

    async def _serve(self) -> str:
        reading = self._reading = asyncio.create_task(self._read_loop())
        storing = asyncio.create_task(self.inbound.run())
        try:
            await asyncio.wait({reading, storing}, return_when=asyncio.FIRST_COMPLETED)
            if not storing.done():
                # whatever ended the reading, messages already read are still stored and
                # acknowledged, in order, before the connection closes
                await self.inbound.queue.put(None)
                await storing
            storing.result()
            if reading.cancelled():  # by kick()
                return self._kicked or "shutdown"
            return reading.result()
        finally:
            for task in (reading, storing):
                task.cancel()
            await asyncio.gather(reading, storing, return_exceptions=True)

    async def _read_loop(self) -> str:
        # MQTT 3.1.2.10: silence for 1.5 times the keep alive ends the connection
        deadline = self.keep_alive * 1.5 if self.keep_alive else None
        while True:
            try:
                async with asyncio.timeout(deadline):
                    first, body = await read_frame(self.reader, self.settings.max_packet_bytes)
                packet = decode(first, body, self.version)
            except TimeoutError:
                raise Hangup(
                    "keep_alive_timeout",
                    Reason.KEEP_ALIVE_TIMEOUT,
                    f"nothing received for {deadline:g} s (keep alive {self.keep_alive} s)",
                ) from None
            except (asyncio.IncompleteReadError, OSError):
                return "connection_lost"
            except MalformedPacket as exc:
                raise _hangup_for(exc) from None
            if isinstance(packet, Disconnect):
                return "client_disconnect"
            await self._dispatch(packet)

    async def _dispatch(self, packet: Packet) -> None:
        if isinstance(packet, Publish):
            await self._on_publish(packet)
        elif isinstance(packet, PubAck) and packet.kind is PacketType.PUBACK:
            self.out.acknowledged(packet.packet_id, packet.reason)
        elif isinstance(packet, Subscribe):
            await self._on_subscribe(packet)
        elif isinstance(packet, Unsubscribe):
            await self._on_unsubscribe(packet)
        elif isinstance(packet, PingReq):
            await self.out.send(PingResp())
            # a device that only pings is still there: online, as over HTTP when it posts
            await self.inbound.note_activity()
        else:
            raise Hangup(
                "protocol_error",
                Reason.PROTOCOL_ERROR,
                f"a client does not send {type(packet).__name__} here",
            )

    async def _on_publish(self, publish: Publish) -> None:
        if publish.qos > 1:
            # the MQTT 5 CONNACK said Maximum QoS 1 (3.3.1.2); 3.1.1 has no way to say it
            raise Hangup("qos_not_supported", Reason.QOS_NOT_SUPPORTED, "QoS 2 is not supported")
        if Prop.TOPIC_ALIAS in publish.properties.values:
            # Topic Alias Maximum was left at 0 in the CONNACK
            raise Hangup("protocol_error", Reason.TOPIC_ALIAS_INVALID, "no topic aliases")
        if publish.properties.subscription_ids:
            raise Hangup("protocol_error", Reason.PROTOCOL_ERROR, "subscription id in PUBLISH")
        if not topics.valid_name(publish.topic):
            raise Hangup(
                "protocol_error", Reason.TOPIC_NAME_INVALID, f"{publish.topic!r} is no topic name"
            )
        metrics.RECEIVED.labels(topics.kind(publish.topic)).inc()
        received = Received(publish, time.perf_counter(), int(time.time() * 1000))
        await self.inbound.queue.put(received)

    async def _on_subscribe(self, subscribe: Subscribe) -> None:
        if subscribe.properties.subscription_ids:
            raise Hangup(
                "protocol_error",
                Reason.SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED,
                "subscription identifiers are not supported",
            )
        reasons: list[int] = []
        for sub in subscribe.subscriptions:
            if not topics.valid_filter(sub.topic_filter):
                v5 = self.version == MQTT_5
                reasons.append(Reason.TOPIC_FILTER_INVALID if v5 else Reason.UNSPECIFIED_ERROR)
            elif self.version == MQTT_5 and sub.topic_filter.startswith("$share/"):
                reasons.append(Reason.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED)
            else:
                # any filter will do: only this device's own messages are ever sent to it
                granted = min(sub.qos, 1)
                self.subscriptions[sub.topic_filter] = granted
                reasons.append(granted)
        await self.out.send(SubAck(subscribe.packet_id, reasons))

    async def _on_unsubscribe(self, unsubscribe: Unsubscribe) -> None:
        reasons: list[int] = []
        for topic_filter in unsubscribe.topic_filters:
            existed = self.subscriptions.pop(topic_filter, None) is not None
            reasons.append(Reason.SUCCESS if existed else Reason.NO_SUBSCRIPTION_EXISTED)
        await self.out.send(UnsubAck(unsubscribe.packet_id, reasons))

    # -- pushing to the device --------------------------------------------------------------

    def granted_qos(self, topic: str) -> int | None:
        """The QoS a message on `topic` is sent with; None if no subscription matches."""
        granted = [qos for f, qos in self.subscriptions.items() if topics.matches(f, topic)]
        return max(granted) if granted else None

    async def push(self, topic: str, payload: bytes) -> bool:
        qos = self.granted_qos(topic)
        if qos is None or self.out.broken:
            return False
        return await self.out.push(topic, payload, qos)
