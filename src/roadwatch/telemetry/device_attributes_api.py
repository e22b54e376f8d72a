"""The device HTTP API for attributes, ThingsBoard-compatible (the token is in the path).

200 done, 400 bad payload, 401 unknown token, 413 too large, and for the long-poll of
shared-attribute updates 408 when nothing changed within `timeout` ms, as ThingsBoard does.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from roadwatch.platform.auth import public
from roadwatch.platform.errors import DomainError
from roadwatch.platform.http import read_body
from roadwatch.platform.runtime import PlatformDep
from roadwatch.telemetry.attributes import (
    Scope,
    parse_attributes,
    set_attributes,
    values_by_scope,
    wait_for_shared_update,
)
from roadwatch.telemetry.device_api import authenticated_device
from roadwatch.telemetry.device_messages import wanted_scopes
from roadwatch.telemetry.status import note_activity

router = APIRouter(prefix="/api/v1", tags=["device API"], dependencies=[public()])

# ThingsBoard's HTTP transport: 60 s when no timeout is given, at most 5 minutes. Behind the
# gateway the poll must also stay under its read timeout (30 s by default).
DEFAULT_POLL_MS = 60_000
MAX_POLL_MS = 300_000


class PollTimeout(DomainError):
    status = 408
    title = "Nothing new within the timeout"
    kind = "poll-timeout"


def poll_timeout_s(raw: str | None) -> float:
    """The long-poll's `timeout` query parameter (ms) in seconds; 400 if it is no number."""
    if raw is None or raw == "":
        return DEFAULT_POLL_MS / 1000
    if not raw.isdigit():
        raise DomainError(f"timeout: expected milliseconds (a whole number), got {raw!r}")
    return min(int(raw), MAX_POLL_MS) / 1000


TimeoutParam = Annotated[
    str | None,
    Query(
        alias="timeout",
        description=f"ms to wait, at most {MAX_POLL_MS}; {DEFAULT_POLL_MS} if absent",
    ),
]


@router.post(
    "/{token}/attributes",
    operation_id="device_post_attributes",
    responses={
        400: {"description": "not a `{key: value}` object; the problem names what is wrong"},
        401: {"description": "no device has this access token"},
        413: {"description": "the body is over ROADWATCH_TELEMETRY__MAX_PAYLOAD_BYTES"},
    },
)
async def post_attributes(token: str, request: Request, platform: PlatformDep) -> None:
    """Report client attributes: `{"firmware": "2.1.0", "lanes": 3}`."""
    device = await authenticated_device(platform, token)
    body = await read_body(request, platform.settings.telemetry.max_payload_bytes)
    values = parse_attributes(body)
    now = int(time.time() * 1000)
    await set_attributes(platform, device.id, Scope.CLIENT, values, f"device:{device.id}", now)
    await note_activity(platform, device.id)


@router.get(
    "/{token}/attributes",
    operation_id="device_get_attributes",
    responses={401: {"description": "no device has this access token"}},
)
async def get_attributes(
    token: str,
    platform: PlatformDep,
    client_keys: Annotated[str | None, Query(alias="clientKeys")] = None,
    shared_keys: Annotated[str | None, Query(alias="sharedKeys")] = None,
) -> dict[str, dict[str, Any]]:
    """`{"client": {...}, "shared": {...}}`: the scopes whose keys are named (comma-separated),
    both in full when neither is. Server attributes are never shown to the device."""
    device = await authenticated_device(platform, token)
    wanted = wanted_scopes(client_keys, shared_keys)
    async with platform.db.read_session() as session:
        found = await values_by_scope(session, device.id, wanted)
    await note_activity(platform, device.id)
    return found


@router.get(
    "/{token}/attributes/updates",
    operation_id="device_poll_attribute_updates",
    responses={
        401: {"description": "no device has this access token"},
        408: {"description": "no shared attribute changed within the timeout"},
    },
)
async def poll_attribute_updates(
    token: str, platform: PlatformDep, timeout_ms: TimeoutParam = None
) -> dict[str, Any]:
    """Wait for the next change of shared attributes: `{"key": value, "deleted": ["k"]}`."""
    device = await authenticated_device(platform, token)
    wait_s = poll_timeout_s(timeout_ms)
    await note_activity(platform, device.id)
    update = await wait_for_shared_update(platform, device.id, wait_s)
    if update is None:
        raise PollTimeout(f"no shared attribute changed within {int(wait_s * 1000)} ms")
    return update.payload()
