"""What a device sends over MQTT besides telemetry, in ThingsBoard's topics: client
attributes, attribute requests, RPC replies and its own RPC calls. The MQTT session hands
such a message to `on_device_message` and publishes back what it returns.

    v1/devices/me/attributes                  {k: v}                      → nothing
    v1/devices/me/attributes/request/{n}      {"clientKeys": "a,b", "sharedKeys": "c"}
                                              → v1/devices/me/attributes/response/{n}
    v1/devices/me/rpc/response/{n}            any JSON (the reply to call n) → nothing
    v1/devices/me/rpc/request/{n}             {"method": ..., "params": ...}
                                              → v1/devices/me/rpc/response/{n}
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from roadwatch.platform.errors import DomainError
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry import rpc
from roadwatch.telemetry.attributes import (
    InvalidAttributes,
    Scope,
    parse_attributes,
    parse_key_list,
    set_attributes,
    values_by_scope,
)
from roadwatch.telemetry.points import decode
from roadwatch.telemetry.status import note_activity

ATTRIBUTES = "v1/devices/me/attributes"
ATTRIBUTES_REQUEST = "v1/devices/me/attributes/request/"
ATTRIBUTES_RESPONSE = "v1/devices/me/attributes/response/"
RPC_REQUEST = "v1/devices/me/rpc/request/"
RPC_RESPONSE = "v1/devices/me/rpc/response/"

Outgoing = list[tuple[str, bytes]]


class UnknownMethod(DomainError):
    status = 404
    title = "Unknown RPC method"
    kind = "rpc-unknown-method"


def handles(topic: str) -> bool:
    """Whether `on_device_message` takes messages on this topic."""
    return topic == ATTRIBUTES or topic.startswith((ATTRIBUTES_REQUEST, RPC_REQUEST, RPC_RESPONSE))


def request_number(raw: str, what: str = "request id") -> int:
    if not raw.isdigit() or len(raw) > 9:
        raise DomainError(f"{what} must be a non-negative integer, got {raw!r}")
    return int(raw)


def wanted_scopes(
    client_keys: str | None, shared_keys: str | None
) -> dict[Scope, list[str] | None]:
    """ThingsBoard's attribute request: the scopes whose keys are named, both when none is."""
    for name, raw in (("clientKeys", client_keys), ("sharedKeys", shared_keys)):
        if raw is not None and not isinstance(raw, str):
            raise InvalidAttributes(f'{name}: expected comma-separated keys, e.g. "a,b"')
    if client_keys is None and shared_keys is None:
        return {Scope.CLIENT: None, Scope.SHARED: None}
    wanted: dict[Scope, list[str] | None] = {}
    if client_keys is not None:
        wanted[Scope.CLIENT] = parse_key_list(client_keys)
    if shared_keys is not None:
        wanted[Scope.SHARED] = parse_key_list(shared_keys)
    return wanted


def session_limits(platform: Platform, transport: str) -> dict[str, Any]:
    """The answer to `getSessionLimits`, in ThingsBoard's shape. No rate limit applies to
    devices (`rateLimits` empty tells the SDKs so)."""
    max_payload = platform.settings.telemetry.max_payload_bytes
    max_inflight = 1
    if transport == "mqtt":
        from roadwatch.telemetry.mqtt.server import mqtt_settings

        mqtt = mqtt_settings(platform)
        max_payload = min(max_payload, mqtt.max_packet_bytes)
        max_inflight = mqtt.receive_maximum
    return {"maxPayloadSize": max_payload, "maxInflightMessages": max_inflight, "rateLimits": {}}


def client_rpc(platform: Platform, data: Any, transport: str) -> Any:
    """A call from the device to the platform (ThingsBoard's client-side RPC)."""
    if not isinstance(data, dict) or not isinstance(data.get("method"), str):
        raise DomainError('expected {"method": "...", "params": {...}}')
    method = data["method"]
    if method == "getSessionLimits":
        return session_limits(platform, transport)
    raise UnknownMethod(f"unknown RPC method {method!r}; the platform answers getSessionLimits")


async def on_device_message(
    platform: Platform, device_id: str, topic: str, payload: bytes
) -> Outgoing:
    """Act on a device's message; returns the messages to publish back to it. Raises a
    DomainError (InvalidAttributes, InvalidPayload, ...) naming what is wrong."""
    out: Outgoing = []
    if topic == ATTRIBUTES:
        values = parse_attributes(payload)
        now = int(time.time() * 1000)
        await set_attributes(platform, device_id, Scope.CLIENT, values, f"device:{device_id}", now)
    elif topic.startswith(ATTRIBUTES_REQUEST):
        number = request_number(topic[len(ATTRIBUTES_REQUEST) :])
        data = decode(payload) if payload.strip() else {}
        if not isinstance(data, dict):
            raise InvalidAttributes('expected {"clientKeys": "a,b", "sharedKeys": "c"}')
        wanted = wanted_scopes(data.get("clientKeys"), data.get("sharedKeys"))
        async with platform.db.read_session() as session:
            found = await values_by_scope(session, device_id, wanted)
        out.append((f"{ATTRIBUTES_RESPONSE}{number}", orjson.dumps(found)))
    elif topic.startswith(RPC_RESPONSE):
        number = request_number(topic[len(RPC_RESPONSE) :])
        response = decode(payload) if payload.strip() else None
        await rpc.reply(platform, device_id, number, response)
    elif topic.startswith(RPC_REQUEST):
        number = request_number(topic[len(RPC_REQUEST) :])
        answer = client_rpc(platform, decode(payload), "mqtt")
        out.append((f"{RPC_RESPONSE}{number}", orjson.dumps(answer)))
    else:
        raise DomainError(f"topic {topic!r} is not supported")
    await note_activity(platform, device_id)
    return out
