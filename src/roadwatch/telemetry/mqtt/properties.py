"""MQTT 5 properties (MQTT 5.0, section 2.2.2): the typed, optional fields of a packet."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from roadwatch.telemetry.mqtt.wire import MAX_VARINT, ProtocolError, Reader, Writer


class Prop(IntEnum):
    PAYLOAD_FORMAT_INDICATOR = 0x01
    MESSAGE_EXPIRY_INTERVAL = 0x02
    CONTENT_TYPE = 0x03
    RESPONSE_TOPIC = 0x08
    CORRELATION_DATA = 0x09
    SUBSCRIPTION_IDENTIFIER = 0x0B
    SESSION_EXPIRY_INTERVAL = 0x11
    ASSIGNED_CLIENT_IDENTIFIER = 0x12
    SERVER_KEEP_ALIVE = 0x13
    AUTHENTICATION_METHOD = 0x15
    AUTHENTICATION_DATA = 0x16
    REQUEST_PROBLEM_INFORMATION = 0x17
    WILL_DELAY_INTERVAL = 0x18
    REQUEST_RESPONSE_INFORMATION = 0x19
    RESPONSE_INFORMATION = 0x1A
    SERVER_REFERENCE = 0x1C
    REASON_STRING = 0x1F
    RECEIVE_MAXIMUM = 0x21
    TOPIC_ALIAS_MAXIMUM = 0x22
    TOPIC_ALIAS = 0x23
    MAXIMUM_QOS = 0x24
    RETAIN_AVAILABLE = 0x25
    USER_PROPERTY = 0x26
    MAXIMUM_PACKET_SIZE = 0x27
    WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
    SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
    SHARED_SUBSCRIPTION_AVAILABLE = 0x2A


BYTE, U16, U32, VARINT, STRING, BINARY, PAIR = range(7)

KIND: dict[Prop, int] = {
    Prop.PAYLOAD_FORMAT_INDICATOR: BYTE,
    Prop.MESSAGE_EXPIRY_INTERVAL: U32,
    Prop.CONTENT_TYPE: STRING,
    Prop.RESPONSE_TOPIC: STRING,
    Prop.CORRELATION_DATA: BINARY,
    Prop.SUBSCRIPTION_IDENTIFIER: VARINT,
    Prop.SESSION_EXPIRY_INTERVAL: U32,
    Prop.ASSIGNED_CLIENT_IDENTIFIER: STRING,
    Prop.SERVER_KEEP_ALIVE: U16,
    Prop.AUTHENTICATION_METHOD: STRING,
    Prop.AUTHENTICATION_DATA: BINARY,
    Prop.REQUEST_PROBLEM_INFORMATION: BYTE,
    Prop.WILL_DELAY_INTERVAL: U32,
    Prop.REQUEST_RESPONSE_INFORMATION: BYTE,
    Prop.RESPONSE_INFORMATION: STRING,
    Prop.SERVER_REFERENCE: STRING,
    Prop.REASON_STRING: STRING,
    Prop.RECEIVE_MAXIMUM: U16,
    Prop.TOPIC_ALIAS_MAXIMUM: U16,
    Prop.TOPIC_ALIAS: U16,
    Prop.MAXIMUM_QOS: BYTE,
    Prop.RETAIN_AVAILABLE: BYTE,
    Prop.USER_PROPERTY: PAIR,
    Prop.MAXIMUM_PACKET_SIZE: U32,
    Prop.WILDCARD_SUBSCRIPTION_AVAILABLE: BYTE,
    Prop.SUBSCRIPTION_IDENTIFIER_AVAILABLE: BYTE,
    Prop.SHARED_SUBSCRIPTION_AVAILABLE: BYTE,
}

# byte properties that may only be 0 or 1; anything else is a protocol error
_FLAGS = {
    Prop.PAYLOAD_FORMAT_INDICATOR,
    Prop.REQUEST_PROBLEM_INFORMATION,
    Prop.REQUEST_RESPONSE_INFORMATION,
    Prop.MAXIMUM_QOS,
    Prop.RETAIN_AVAILABLE,
    Prop.WILDCARD_SUBSCRIPTION_AVAILABLE,
    Prop.SUBSCRIPTION_IDENTIFIER_AVAILABLE,
    Prop.SHARED_SUBSCRIPTION_AVAILABLE,
}
# properties where zero is not a value the specification allows
_NON_ZERO = {
    Prop.RECEIVE_MAXIMUM,
    Prop.MAXIMUM_PACKET_SIZE,
    Prop.TOPIC_ALIAS,
    Prop.SUBSCRIPTION_IDENTIFIER,
}

Scalar = int | str | bytes


@dataclass
class Properties:
    """Single-valued properties by id; the two repeatable ones kept in lists, in order."""

    values: dict[Prop, Scalar] = field(default_factory=dict)
    user: list[tuple[str, str]] = field(default_factory=list)
    subscription_ids: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.values or self.user or self.subscription_ids)

    def get_int(self, prop: Prop, default: int) -> int:
        value = self.values.get(prop, default)
        assert isinstance(value, int)
        return value

    def get_str(self, prop: Prop) -> str | None:
        value = self.values.get(prop)
        assert value is None or isinstance(value, str)
        return value


def _read_one(reader: Reader, kind: int) -> Scalar:
    if kind == BYTE:
        return reader.u8()
    if kind == U16:
        return reader.u16()
    if kind == U32:
        return reader.u32()
    if kind == VARINT:
        return reader.varint()
    if kind == STRING:
        return reader.string()
    return reader.binary()


def read_properties(reader: Reader) -> Properties:
    """The property block at the reader: its length, then identifier/value pairs."""
    block = reader.sub(reader.varint())
    props = Properties()
    while block.remaining():
        identifier = block.varint()
        try:
            prop = Prop(identifier)
        except ValueError:
            raise ProtocolError(f"unknown property 0x{identifier:02X}") from None
        kind = KIND[prop]
        if kind == PAIR:
            props.user.append((block.string(), block.string()))
            continue
        value = _read_one(block, kind)
        if prop in _FLAGS and value not in (0, 1):
            raise ProtocolError(f"property {prop.name} must be 0 or 1")
        if prop in _NON_ZERO and value == 0:
            raise ProtocolError(f"property {prop.name} must not be 0")
        if prop is Prop.SUBSCRIPTION_IDENTIFIER:
            assert isinstance(value, int)
            props.subscription_ids.append(value)
        elif prop in props.values:
            raise ProtocolError(f"property {prop.name} included twice")
        else:
            props.values[prop] = value
    return props


def _write_one(writer: Writer, kind: int, value: Scalar) -> None:
    if kind == STRING:
        assert isinstance(value, str)
        writer.string(value)
    elif kind == BINARY:
        assert isinstance(value, bytes)
        writer.binary(value)
    else:
        assert isinstance(value, int)
        {BYTE: writer.u8, U16: writer.u16, U32: writer.u32, VARINT: writer.varint}[kind](value)


def write_properties(writer: Writer, props: Properties) -> None:
    block = Writer()
    for prop, value in props.values.items():
        block.varint(prop)
        _write_one(block, KIND[prop], value)
    for sub_id in props.subscription_ids:
        if not 1 <= sub_id <= MAX_VARINT:
            raise ValueError("subscription identifier out of range")
        block.varint(Prop.SUBSCRIPTION_IDENTIFIER)
        block.varint(sub_id)
    for name, value in props.user:
        block.varint(Prop.USER_PROPERTY)
        block.string(name)
        block.string(value)
    writer.varint(len(block.buf))
    writer.raw(bytes(block.buf))
