"""Packets to bytes and back (MQTT 3.1.1 and 5.0, sections 2 and 3), and framing on a stream.

Decoding checks everything the specifications call malformed (reserved flags, lengths,
strings, property types); what a session may or may not do with a valid packet is the
session's business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

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
from roadwatch.telemetry.mqtt.properties import Properties, read_properties, write_properties
from roadwatch.telemetry.mqtt.wire import (
    MalformedPacket,
    ProtocolError,
    Reader,
    Writer,
    encode_varint,
)

PROTOCOL_NAME = "MQTT"
_ACK_KINDS = (PacketType.PUBACK, PacketType.PUBREC, PacketType.PUBREL, PacketType.PUBCOMP)
# the low nibble of the first byte is fixed for every packet kind except PUBLISH
_FIXED_FLAGS = {
    PacketType.PUBREL: 0b0010,
    PacketType.SUBSCRIBE: 0b0010,
    PacketType.UNSUBSCRIBE: 0b0010,
}


class UnsupportedVersion(MalformedPacket):
    """A CONNECT for a protocol level other than 4 (3.1.1) or 5 (5.0)."""

    def __init__(self, level: int) -> None:
        super().__init__(
            f"protocol level {level} is not supported", Reason.UNSUPPORTED_PROTOCOL_VERSION
        )
        self.level = level


class PacketTooLarge(MalformedPacket):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"packet of {size} bytes is over the limit of {limit}", Reason.PACKET_TOO_LARGE
        )


# -- framing --------------------------------------------------------------------------------


async def read_frame(reader: asyncio.StreamReader, max_bytes: int) -> tuple[int, bytes]:
    """(first byte, body) of the next packet; refuses one larger than `max_bytes` in total
    before reading its body, so a client cannot make us buffer more than that."""
    head = await reader.readexactly(2)  # every packet has at least these two bytes
    length, shift, used = head[1] & 0x7F, 7, 1
    more = head[1] & 0x80
    while more:
        if used == 4:
            raise MalformedPacket("remaining length longer than 4 bytes")
        byte = (await reader.readexactly(1))[0]
        length |= (byte & 0x7F) << shift
        shift, used, more = shift + 7, used + 1, byte & 0x80
    total = 1 + used + length
    if total > max_bytes:
        raise PacketTooLarge(total, max_bytes)
    body = await reader.readexactly(length) if length else b""
    return head[0], body


def frame(kind: PacketType, flags: int, body: bytes) -> bytes:
    return bytes((kind << 4 | flags,)) + encode_varint(len(body)) + body


# -- decoding -------------------------------------------------------------------------------


def decode(first_byte: int, body: bytes, version: int) -> Packet:
    """The packet of one frame. `version` is the connection's (ignored for CONNECT)."""
    try:
        kind = PacketType(first_byte >> 4)
    except ValueError:
        raise MalformedPacket("reserved packet type 0") from None
    flags = first_byte & 0x0F
    if kind is not PacketType.PUBLISH and flags != _FIXED_FLAGS.get(kind, 0):
        raise MalformedPacket(f"reserved flags of {kind.name} are {flags:04b}")
    if kind is PacketType.AUTH and version != MQTT_5:
        raise MalformedPacket("AUTH exists only in MQTT 5")
    reader = Reader(body)
    packet = _DECODERS[kind](reader, flags, version, kind)
    if reader.remaining():
        raise MalformedPacket(f"{reader.remaining()} unexpected bytes at the end of {kind.name}")
    return packet


def _props(reader: Reader, version: int) -> Properties:
    return read_properties(reader) if version == MQTT_5 else Properties()


def _packet_id(reader: Reader) -> int:
    packet_id = reader.u16()
    if packet_id == 0:
        raise MalformedPacket("packet identifier 0")
    return packet_id


def _decode_connect(reader: Reader, _flags: int, _version: int, _kind: PacketType) -> Connect:
    name = reader.string()
    level = reader.u8()
    if level not in (MQTT_311, MQTT_5):
        raise UnsupportedVersion(level)
    if name != PROTOCOL_NAME:
        raise MalformedPacket(f"protocol name {name!r} with level {level}")
    flags = reader.u8()
    if flags & 0x01:
        raise MalformedPacket("reserved CONNECT flag is set")
    has_username, has_password = bool(flags & 0x80), bool(flags & 0x40)
    will_retain, will_qos, has_will = bool(flags & 0x20), (flags >> 3) & 0x03, bool(flags & 0x04)
    if will_qos == 3 or (not has_will and (will_qos or will_retain)):
        raise MalformedPacket("will QoS/retain flags without a will, or will QoS 3")
    if level == MQTT_311 and has_password and not has_username:
        raise MalformedPacket("password flag without a user name")
    keep_alive = reader.u16()
    properties = _props(reader, level)
    client_id = reader.string()
    will = None
    if has_will:
        will_props = _props(reader, level)
        will = Will(reader.string(), reader.binary(), will_qos, will_retain, will_props)
    return Connect(
        protocol_level=level,
        client_id=client_id,
        keep_alive=keep_alive,
        clean_start=bool(flags & 0x02),
        username=reader.string() if has_username else None,
        password=reader.binary() if has_password else None,
        will=will,
        properties=properties,
    )


def _decode_connack(reader: Reader, _flags: int, version: int, _kind: PacketType) -> ConnAck:
    ack_flags = reader.u8()
    if ack_flags & 0xFE:
        raise MalformedPacket("reserved CONNACK flags are set")
    reason = reader.u8()
    return ConnAck(reason, bool(ack_flags & 0x01), _props(reader, version))


def _decode_publish(reader: Reader, flags: int, version: int, _kind: PacketType) -> Publish:
    qos = (flags >> 1) & 0x03
    if qos == 3:
        raise MalformedPacket("PUBLISH with QoS 3")
    dup = bool(flags & 0x08)
    if dup and qos == 0:
        raise MalformedPacket("DUP set on a QoS 0 PUBLISH")
    topic = reader.string()
    packet_id = _packet_id(reader) if qos else None
    properties = _props(reader, version)
    return Publish(topic, reader.rest(), qos, bool(flags & 0x01), dup, packet_id, properties)


def _decode_ack(reader: Reader, _flags: int, version: int, kind: PacketType) -> PubAck:
    packet_id = _packet_id(reader)
    if version != MQTT_5 or not reader.remaining():
        return PubAck(packet_id, kind=kind)
    reason = reader.u8()
    properties = read_properties(reader) if reader.remaining() else Properties()
    return PubAck(packet_id, reason, properties, kind)


def _decode_subscribe(reader: Reader, _flags: int, version: int, _kind: PacketType) -> Subscribe:
    packet_id = _packet_id(reader)
    properties = _props(reader, version)
    subscriptions = []
    while reader.remaining():
        topic_filter = reader.string()
        options = reader.u8()
        qos = options & 0x03
        reserved = options & (0xC0 if version == MQTT_5 else 0xFC)
        if qos == 3 or reserved:
            raise MalformedPacket(f"subscription options {options:08b}")
        retain_handling = (options >> 4) & 0x03
        if retain_handling == 3:
            raise ProtocolError("retain handling 3")
        subscriptions.append(
            Subscription(
                topic_filter, qos, bool(options & 0x04), bool(options & 0x08), retain_handling
            )
        )
    if not subscriptions:
        raise ProtocolError("SUBSCRIBE without a topic filter")
    return Subscribe(packet_id, subscriptions, properties)


def _decode_suback(reader: Reader, _flags: int, version: int, _kind: PacketType) -> SubAck:
    packet_id = _packet_id(reader)
    properties = _props(reader, version)
    return SubAck(packet_id, list(reader.rest()), properties)


def _decode_unsubscribe(
    reader: Reader, _flags: int, version: int, _kind: PacketType
) -> Unsubscribe:
    packet_id = _packet_id(reader)
    properties = _props(reader, version)
    filters = []
    while reader.remaining():
        filters.append(reader.string())
    if not filters:
        raise ProtocolError("UNSUBSCRIBE without a topic filter")
    return Unsubscribe(packet_id, filters, properties)


def _decode_unsuback(reader: Reader, _flags: int, version: int, _kind: PacketType) -> UnsubAck:
    packet_id = _packet_id(reader)
    if version != MQTT_5:
        return UnsubAck(packet_id)
    properties = read_properties(reader)
    return UnsubAck(packet_id, list(reader.rest()), properties)


def _decode_empty(kind: type[PingReq] | type[PingResp]) -> _Decoder:
    def decode_empty(_reader: Reader, _flags: int, _version: int, _kind: PacketType) -> Packet:
        return kind()

    return decode_empty


def _decode_reason_only(
    kind: type[Disconnect] | type[Auth],
) -> _Decoder:
    # DISCONNECT and AUTH: an absent reason is Success, absent properties are none
    def decode_reason(reader: Reader, _flags: int, version: int, _kind: PacketType) -> Packet:
        if version != MQTT_5 or not reader.remaining():
            return kind()
        reason = reader.u8()
        properties = read_properties(reader) if reader.remaining() else Properties()
        return kind(reason, properties)

    return decode_reason


_Decoder = Callable[[Reader, int, int, PacketType], Packet]
_DECODERS: dict[PacketType, _Decoder] = {
    PacketType.CONNECT: _decode_connect,
    PacketType.CONNACK: _decode_connack,
    PacketType.PUBLISH: _decode_publish,
    **{kind: _decode_ack for kind in _ACK_KINDS},
    PacketType.SUBSCRIBE: _decode_subscribe,
    PacketType.SUBACK: _decode_suback,
    PacketType.UNSUBSCRIBE: _decode_unsubscribe,
    PacketType.UNSUBACK: _decode_unsuback,
    PacketType.PINGREQ: _decode_empty(PingReq),
    PacketType.PINGRESP: _decode_empty(PingResp),
    PacketType.DISCONNECT: _decode_reason_only(Disconnect),
    PacketType.AUTH: _decode_reason_only(Auth),
}


# -- encoding -------------------------------------------------------------------------------


def encode(packet: Packet, version: int) -> bytes:
    """The whole frame of `packet` as sent on a connection of `version`."""
    out = Writer()
    flags = 0
    if isinstance(packet, Connect):
        kind = PacketType.CONNECT
        _encode_connect(out, packet)
    elif isinstance(packet, ConnAck):
        kind = PacketType.CONNACK
        out.u8(1 if packet.session_present else 0)
        out.u8(packet.reason)
        _write_props(out, packet.properties, version)
    elif isinstance(packet, Publish):
        kind = PacketType.PUBLISH
        flags = (packet.dup << 3) | (packet.qos << 1) | int(packet.retain)
        out.string(packet.topic)
        if packet.qos:
            assert packet.packet_id, "a QoS 1/2 PUBLISH needs a packet identifier"
            out.u16(packet.packet_id)
        _write_props(out, packet.properties, version)
        out.raw(packet.payload)
    elif isinstance(packet, PubAck):
        kind = packet.kind
        flags = _FIXED_FLAGS.get(kind, 0)
        out.u16(packet.packet_id)
        _write_reason(out, packet.reason, packet.properties, version)
    elif isinstance(packet, Subscribe):
        kind, flags = PacketType.SUBSCRIBE, 0b0010
        out.u16(packet.packet_id)
        _write_props(out, packet.properties, version)
        for sub in packet.subscriptions:
            out.string(sub.topic_filter)
            options = sub.qos
            if version == MQTT_5:
                options |= sub.no_local << 2 | sub.retain_as_published << 3
                options |= sub.retain_handling << 4
            out.u8(options)
    elif isinstance(packet, SubAck):
        kind = PacketType.SUBACK
        out.u16(packet.packet_id)
        _write_props(out, packet.properties, version)
        out.raw(bytes(packet.reasons))
    elif isinstance(packet, Unsubscribe):
        kind, flags = PacketType.UNSUBSCRIBE, 0b0010
        out.u16(packet.packet_id)
        _write_props(out, packet.properties, version)
        for topic_filter in packet.topic_filters:
            out.string(topic_filter)
    elif isinstance(packet, UnsubAck):
        kind = PacketType.UNSUBACK
        out.u16(packet.packet_id)
        if version == MQTT_5:
            write_properties(out, packet.properties)
            out.raw(bytes(packet.reasons))
    elif isinstance(packet, PingReq):
        kind = PacketType.PINGREQ
    elif isinstance(packet, PingResp):
        kind = PacketType.PINGRESP
    elif isinstance(packet, Disconnect):
        kind = PacketType.DISCONNECT
        _write_reason(out, packet.reason, packet.properties, version)
    else:
        kind = PacketType.AUTH
        _write_reason(out, packet.reason, packet.properties, version)
    return frame(kind, flags, bytes(out.buf))


def _write_props(out: Writer, props: Properties, version: int) -> None:
    if version == MQTT_5:
        write_properties(out, props)


def _write_reason(out: Writer, reason: int, props: Properties, version: int) -> None:
    # MQTT 5 lets both be left out when they say "Success, nothing more" (and the
    # properties alone when there are none); 3.1.1 has neither
    if version != MQTT_5 or (reason == Reason.SUCCESS and not props):
        return
    out.u8(reason)
    if props:
        write_properties(out, props)


def _encode_connect(out: Writer, packet: Connect) -> None:
    version = packet.protocol_level
    out.string(PROTOCOL_NAME)
    out.u8(version)
    will = packet.will
    flags = (packet.username is not None) << 7 | (packet.password is not None) << 6
    if will is not None:
        flags |= will.retain << 5 | will.qos << 3 | 1 << 2
    flags |= packet.clean_start << 1
    out.u8(flags)
    out.u16(packet.keep_alive)
    _write_props(out, packet.properties, version)
    out.string(packet.client_id)
    if will is not None:
        _write_props(out, will.properties, version)
        out.string(will.topic)
        out.binary(will.payload)
    if packet.username is not None:
        out.string(packet.username)
    if packet.password is not None:
        out.binary(packet.password)
