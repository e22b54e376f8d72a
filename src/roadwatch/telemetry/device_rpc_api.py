"""The device HTTP API for RPC, ThingsBoard-compatible: long-poll for commands, reply to
them, and call the platform (client-side RPC).

A command handed out by the long-poll counts as delivered (the device asked for it), as
ThingsBoard counts it. 408 when no command came within `timeout` ms; 404 for a reply to a
command the device never got; 409 for one that takes no reply (one-way, expired, answered).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request

from roadwatch.platform.auth import public
from roadwatch.platform.http import read_body
from roadwatch.platform.runtime import PlatformDep
from roadwatch.telemetry import rpc
from roadwatch.telemetry.device_api import authenticated_device
from roadwatch.telemetry.device_attributes_api import PollTimeout, TimeoutParam, poll_timeout_s
from roadwatch.telemetry.device_messages import client_rpc, request_number
from roadwatch.telemetry.points import decode
from roadwatch.telemetry.status import note_activity

router = APIRouter(prefix="/api/v1", tags=["device API"], dependencies=[public()])


@router.get(
    "/{token}/rpc",
    operation_id="device_poll_rpc",
    responses={
        401: {"description": "no device has this access token"},
        408: {"description": "no command came within the timeout"},
    },
)
async def poll_rpc(
    token: str, platform: PlatformDep, timeout_ms: TimeoutParam = None
) -> dict[str, Any]:
    """Wait for the next command: `{"id": 1, "method": "setMode", "params": {...}}`."""
    device = await authenticated_device(platform, token)
    wait_s = poll_timeout_s(timeout_ms)
    await note_activity(platform, device.id)
    call = await rpc.wait_for_call(platform, device.id, wait_s)
    if call is None:
        raise PollTimeout(f"no command within {int(wait_s * 1000)} ms")
    return {"id": call.request_id, "method": call.method, "params": orjson.loads(call.params)}


@router.post(
    "/{token}/rpc/{request_id}",
    operation_id="device_reply_rpc",
    responses={
        400: {"description": "malformed JSON or request id"},
        401: {"description": "no device has this access token"},
        404: {"description": "no command with this id was sent to the device"},
        409: {"description": "the command takes no reply (one-way, expired or answered)"},
    },
)
async def reply_rpc(token: str, request_id: str, request: Request, platform: PlatformDep) -> None:
    """Answer command `request_id` with any JSON, e.g. `{"result": "ok"}`."""
    device = await authenticated_device(platform, token)
    number = request_number(request_id)
    body = await read_body(request, platform.settings.telemetry.max_payload_bytes)
    response = decode(body) if body.strip() else None
    await note_activity(platform, device.id)
    await rpc.reply(platform, device.id, number, response)


@router.post(
    "/{token}/rpc",
    operation_id="device_call_platform",
    responses={
        400: {"description": 'not `{"method": ..., "params": ...}`'},
        401: {"description": "no device has this access token"},
        404: {"description": "the platform has no such method"},
    },
)
async def call_platform(token: str, request: Request, platform: PlatformDep) -> Any:
    """Call the platform: `{"method": "getSessionLimits", "params": {}}` answers the limits
    this device's messages must keep to."""
    device = await authenticated_device(platform, token)
    body = await read_body(request, platform.settings.telemetry.max_payload_bytes)
    await note_activity(platform, device.id)
    return client_rpc(platform, decode(body), "http")
