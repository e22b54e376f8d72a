"""ThingsBoard's gateway API over MQTT: one connection (a gateway device's) speaks for many
devices behind it, named in each message.

    v1/gateway/connect             {"device": "Loop 7"}                  the device is there
    v1/gateway/disconnect          {"device": "Loop 7"}                  it is gone
    v1/gateway/telemetry           {"Loop 7": [{"ts": ms, "values": {...}}], "Loop 8": {...}}
    v1/gateway/attributes          {"Loop 7": {"firmware": "1.2"}}       client attributes
    v1/gateway/attributes/request  {"id": 1, "device": "Loop 7", "client": true, "key": "a"}
                                   → v1/gateway/attributes/response {"id", "device", "value"}
    v1/gateway/rpc                 {"device": "Loop 7", "id": 5, "data": {...}}  RPC reply

and to the gateway: `v1/gateway/attributes` {"device", "data"} on a shared-attribute change,
`v1/gateway/rpc` {"device", "data": {"id", "method", "params"}} for a call (see `wrap`).

Only a device registered with `"gateway": true` in its `extra` may use these topics, and the
devices it names must be registered (by name): unlike ThingsBoard, a gateway does not
create devices, so the registry stays the one place devices are made. A message naming an
unknown device is refused whole, naming it; a telemetry message is stored in one
transaction for all its devices.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from roadwatch.platform.errors import DomainError, Forbidden
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry import rpc
from roadwatch.telemetry.attributes import (
    InvalidAttributes,
    Scope,
    attributes_from,
    set_attributes,
    values_by_scope,
)
from roadwatch.telemetry.models import DirectoryDevice
from roadwatch.telemetry.points import InvalidPayload, Point, decode, points_from
from roadwatch.telemetry.profiles import rules_for
from roadwatch.telemetry.status import note_activity
from roadwatch.telemetry.store import store_batches

if TYPE_CHECKING:
    from roadwatch.telemetry.mqtt.registry import SessionRegistry

PREFIX = "v1/gateway/"
CONNECT = "v1/gateway/connect"
DISCONNECT = "v1/gateway/disconnect"
TELEMETRY = "v1/gateway/telemetry"
ATTRIBUTES = "v1/gateway/attributes"
ATTRIBUTES_REQUEST = "v1/gateway/attributes/request"
ATTRIBUTES_RESPONSE = "v1/gateway/attributes/response"
RPC = "v1/gateway/rpc"
# what the platform sends a device directly, and where a gateway gets it for its devices
DEVICE_ATTRIBUTES = "v1/devices/me/attributes"
DEVICE_RPC_REQUEST = "v1/devices/me/rpc/request/"
MAX_DEVICES = 1000

Outgoing = list[tuple[str, bytes]]


class UnknownDevices(DomainError):
    status = 404
    title = "Unknown devices"
    kind = "gateway-unknown-devices"


class NotAGateway(Forbidden):
    kind = "not-a-gateway"


@dataclass(frozen=True, slots=True)
class Child:
    id: str
    name: str
    profile_id: str | None


def handles(topic: str) -> bool:
    return topic.startswith(PREFIX)


async def _children(platform: Platform, names: list[str]) -> dict[str, Child]:
    if len(names) > MAX_DEVICES:
        raise InvalidPayload(f"at most {MAX_DEVICES} devices per gateway message")
    for name in names:
        if not isinstance(name, str) or not name:
            raise InvalidPayload("device names must be non-empty strings")
    async with platform.db.read_session() as session:
        rows = await session.execute(
            select(DirectoryDevice.id, DirectoryDevice.name, DirectoryDevice.profile_id).where(
                DirectoryDevice.name.in_(names), DirectoryDevice.active.is_(True)
            )
        )
        found = {row.name: Child(row.id, row.name, row.profile_id) for row in rows}
    missing = [n for n in names if n not in found]
    if missing:
        shown = ", ".join(repr(n) for n in missing[:5])
        raise UnknownDevices(f"no registered device named {shown}; register them first")
    return found


def _object(payload: bytes, shape: str) -> dict[str, Any]:
    data = decode(payload)
    if not isinstance(data, dict) or not data:
        raise InvalidPayload(f"expected {shape}")
    return data


def _device_name(data: dict[str, Any]) -> str:
    name = data.get("device")
    if not isinstance(name, str) or not name:
        raise InvalidPayload('"device": the name of a device behind the gateway is missing')
    return name


async def on_gateway_message(
    platform: Platform,
    registry: SessionRegistry,
    gateway_id: str,
    is_gateway: bool,
    topic: str,
    payload: bytes,
) -> Outgoing:
    """Act on a gateway's message; returns what to publish back to it. Raises a DomainError
    naming what is wrong (the message is then refused, the connection lives on)."""
    if not is_gateway:
        raise NotAGateway(
            'this device is not a gateway: set "gateway": true in its extra to use v1/gateway/'
        )
    out: Outgoing = []
    now_ms = int(time.time() * 1000)
    if topic == TELEMETRY:
        data = _object(payload, '{"<device name>": <telemetry>, ...}')
        children = await _children(platform, list(data))
        max_future_ms = platform.settings.telemetry.max_future_s * 1000
        batches: dict[str, list[Point]] = {}
        for name, entry in data.items():
            child = children[name]
            try:
                points = points_from(entry, now_ms, max_future_ms)
                (await rules_for(platform, child.profile_id)).check(points)
            except InvalidPayload as exc:
                raise type(exc)(f"{name}: {exc.detail}", **exc.extra) from None
            batches[child.id] = points
        await store_batches(platform, batches, source=f"mqtt-gateway:{gateway_id}")
        for child in children.values():
            registry.add_child(child.id, child.name, gateway_id)
            await note_activity(platform, child.id)
    elif topic == ATTRIBUTES:
        data = _object(payload, '{"<device name>": {key: value}, ...}')
        children = await _children(platform, list(data))
        values = {name: attributes_from(entry) for name, entry in data.items()}
        for name, child in children.items():
            actor = f"device:{gateway_id}"
            await set_attributes(platform, child.id, Scope.CLIENT, values[name], actor, now_ms)
            await note_activity(platform, child.id)
    elif topic == ATTRIBUTES_REQUEST:
        out.append(await _attributes_request(platform, payload))
    elif topic in (CONNECT, DISCONNECT):
        name = _device_name(_object(payload, '{"device": "<name>"}'))
        child = (await _children(platform, [name]))[name]
        if topic == CONNECT:
            registry.add_child(child.id, child.name, gateway_id)
            await note_activity(platform, child.id)
        else:
            registry.remove_child(child.id, gateway_id)
    elif topic == RPC:
        data = _object(payload, '{"device": "<name>", "id": <request id>, "data": {...}}')
        name = _device_name(data)
        request_id = data.get("id")
        if isinstance(request_id, bool) or not isinstance(request_id, int) or request_id < 0:
            raise InvalidPayload('"id": the request id of the call answered is missing')
        child = (await _children(platform, [name]))[name]
        await rpc.reply(platform, child.id, request_id, data.get("data"))
    else:
        raise DomainError(f"topic {topic!r} is not a gateway topic")
    await note_activity(platform, gateway_id)
    return out


async def _attributes_request(platform: Platform, payload: bytes) -> tuple[str, bytes]:
    data = _object(payload, '{"id": n, "device": "<name>", "client": true, "key": "k"}')
    name = _device_name(data)
    request_id = data.get("id")
    if isinstance(request_id, bool) or not isinstance(request_id, int):
        raise InvalidAttributes('"id": a request number is needed to answer')
    scope = Scope.CLIENT if data.get("client", False) is True else Scope.SHARED
    key, keys = data.get("key"), data.get("keys")
    if not (isinstance(key, str) and key) and not (
        isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys)
    ):
        raise InvalidAttributes('"key": "k" or "keys": ["a", "b"] names what is asked for')
    child = (await _children(platform, [name]))[name]
    wanted = [key] if isinstance(key, str) and key else list(keys or [])
    async with platform.db.read_session() as session:
        found = (await values_by_scope(session, child.id, {scope: wanted}))[scope.value]
    answer: dict[str, Any] = {"id": request_id, "device": name}
    if isinstance(key, str) and key:
        answer["value"] = found.get(key)
    else:
        answer["values"] = found
    return ATTRIBUTES_RESPONSE, orjson.dumps(answer)


def wrap_topic(topic: str) -> str:
    """The gateway topic that carries a device's message on `topic`."""
    if topic == DEVICE_ATTRIBUTES:
        return ATTRIBUTES
    if topic.startswith(DEVICE_RPC_REQUEST):
        return RPC
    raise ValueError(f"no gateway form for {topic!r}")


def wrap(topic: str, payload: bytes, child_name: str) -> tuple[str, bytes]:
    """A message for a device behind a gateway, as the gateway receives it."""
    if topic == DEVICE_ATTRIBUTES:
        return ATTRIBUTES, orjson.dumps({"device": child_name, "data": orjson.loads(payload)})
    if topic.startswith(DEVICE_RPC_REQUEST):
        call = orjson.loads(payload)
        request_id = int(topic[len(DEVICE_RPC_REQUEST) :])
        data = {"id": request_id, "method": call["method"], "params": call.get("params")}
        return RPC, orjson.dumps({"device": child_name, "data": data})
    raise ValueError(f"no gateway form for {topic!r}")
