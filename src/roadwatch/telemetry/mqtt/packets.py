"""MQTT control packets as values, and the reason and return codes they carry.

One class per packet kind, shared by both protocol versions: fields that only MQTT 5 has
(properties, reason codes) keep their neutral default under 3.1.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from roadwatch.telemetry.mqtt.properties import Properties

MQTT_311 = 4
MQTT_5 = 5


class PacketType(IntEnum):
    CONNECT = 1
    CONNACK = 2
    PUBLISH = 3
    PUBACK = 4
    PUBREC = 5
    PUBREL = 6
    PUBCOMP = 7
    SUBSCRIBE = 8
    SUBACK = 9
    UNSUBSCRIBE = 10
    UNSUBACK = 11
    PINGREQ = 12
    PINGRESP = 13
    DISCONNECT = 14
    AUTH = 15


class ConnectReturn(IntEnum):
    """MQTT 3.1.1 CONNACK return codes."""

    ACCEPTED = 0
    UNACCEPTABLE_PROTOCOL_VERSION = 1
    IDENTIFIER_REJECTED = 2
    SERVER_UNAVAILABLE = 3
    BAD_USERNAME_OR_PASSWORD = 4
    NOT_AUTHORIZED = 5


class Reason(IntEnum):
    """MQTT 5 reason codes (section 2.4) that this endpoint sends or acts on."""

    SUCCESS = 0x00
    GRANTED_QOS_1 = 0x01
    GRANTED_QOS_2 = 0x02
    DISCONNECT_WITH_WILL = 0x04
    NO_SUBSCRIPTION_EXISTED = 0x11
    UNSPECIFIED_ERROR = 0x80
    MALFORMED_PACKET = 0x81
    PROTOCOL_ERROR = 0x82
    IMPLEMENTATION_SPECIFIC_ERROR = 0x83
    UNSUPPORTED_PROTOCOL_VERSION = 0x84
    CLIENT_IDENTIFIER_NOT_VALID = 0x85
    BAD_USERNAME_OR_PASSWORD = 0x86
    NOT_AUTHORIZED = 0x87
    SERVER_UNAVAILABLE = 0x88
    SERVER_BUSY = 0x89
    BAD_AUTHENTICATION_METHOD = 0x8C
    SERVER_SHUTTING_DOWN = 0x8B
    KEEP_ALIVE_TIMEOUT = 0x8D
    SESSION_TAKEN_OVER = 0x8E
    TOPIC_FILTER_INVALID = 0x8F
    TOPIC_NAME_INVALID = 0x90
    RECEIVE_MAXIMUM_EXCEEDED = 0x93
    TOPIC_ALIAS_INVALID = 0x94
    PACKET_TOO_LARGE = 0x95
    PAYLOAD_FORMAT_INVALID = 0x99
    QOS_NOT_SUPPORTED = 0x9B
    SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E
    SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1


@dataclass
class Will:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    properties: Properties = field(default_factory=Properties)


@dataclass
class Connect:
    protocol_level: int
    client_id: str
    keep_alive: int
    # "clean session" in 3.1.1, "clean start" in 5.0
    clean_start: bool = True
    username: str | None = None
    password: bytes | None = None
    will: Will | None = None
    properties: Properties = field(default_factory=Properties)


@dataclass
class ConnAck:
    # a ConnectReturn under 3.1.1, a Reason under 5.0
    reason: int
    session_present: bool = False
    properties: Properties = field(default_factory=Properties)


@dataclass
class Publish:
    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    dup: bool = False
    # present exactly when qos > 0
    packet_id: int | None = None
    properties: Properties = field(default_factory=Properties)


@dataclass
class PubAck:
    """PUBACK, and the QoS 2 steps PUBREC, PUBREL and PUBCOMP, which share its shape."""

    packet_id: int
    reason: int = Reason.SUCCESS
    properties: Properties = field(default_factory=Properties)
    kind: PacketType = PacketType.PUBACK


@dataclass
class Subscription:
    topic_filter: str
    qos: int
    # MQTT 5 subscription options
    no_local: bool = False
    retain_as_published: bool = False
    retain_handling: int = 0


@dataclass
class Subscribe:
    packet_id: int
    subscriptions: list[Subscription]
    properties: Properties = field(default_factory=Properties)


@dataclass
class SubAck:
    packet_id: int
    # granted QoS or a failure code, one per subscription, in order
    reasons: list[int]
    properties: Properties = field(default_factory=Properties)


@dataclass
class Unsubscribe:
    packet_id: int
    topic_filters: list[str]
    properties: Properties = field(default_factory=Properties)


@dataclass
class UnsubAck:
    packet_id: int
    # MQTT 5 only: one per topic filter; empty under 3.1.1
    reasons: list[int] = field(default_factory=list)
    properties: Properties = field(default_factory=Properties)


@dataclass
class PingReq:
    pass


@dataclass
class PingResp:
    pass


@dataclass
class Disconnect:
    reason: int = Reason.SUCCESS
    properties: Properties = field(default_factory=Properties)


@dataclass
class Auth:
    reason: int = Reason.SUCCESS
    properties: Properties = field(default_factory=Properties)


Packet = (
    Connect
    | ConnAck
    | Publish
    | PubAck
    | Subscribe
    | SubAck
    | Unsubscribe
    | UnsubAck
    | PingReq
    | PingResp
    | Disconnect
    | Auth
)
