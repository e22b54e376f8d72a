"""The device-facing HTTP API, ThingsBoard-compatible: the access token is in the path.

Status codes are ThingsBoard's, because devices and SDKs act on them: 200 stored,
400 bad payload, 401 unknown token, 413 too large. A 200 is sent only after commit.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from roadwatch.platform.auth import public
from roadwatch.platform.errors import Unauthenticated
from roadwatch.platform.http import read_body
from roadwatch.platform.runtime import PlatformDep
from roadwatch.telemetry.group_commit import group_commit
from roadwatch.telemetry.ingest import DeviceRef, device_for_token, parse_points
from roadwatch.telemetry.profiles import rules_for
from roadwatch.telemetry.status import note_activity

router = APIRouter(prefix="/api/v1", tags=["device API"], dependencies=[public()])


async def authenticated_device(platform: PlatformDep, token: str) -> DeviceRef:
    device = await device_for_token(platform, token)
    if device is None:
        raise Unauthenticated("unknown or revoked device access token")
    (await rules_for(platform, device.profile_id)).check_protocol("http")
    return device


@router.post(
    "/{token}/telemetry",
    operation_id="device_post_telemetry",
    responses={
        400: {
            "description": "the payload is not telemetry, or a value is outside the range "
            "the device's profile allows; the problem names what is wrong"
        },
        401: {"description": "no device has this access token"},
        403: {"description": "the device's profile does not allow HTTP"},
        413: {"description": "the body is over ROADWATCH_TELEMETRY__MAX_PAYLOAD_BYTES"},
    },
)
async def post_telemetry(token: str, request: Request, platform: PlatformDep) -> None:
    """Store telemetry: `{k: v}`, `{"ts": ms, "values": {...}}`, or a list of either."""
    device = await authenticated_device(platform, token)
    settings = platform.settings.telemetry
    body = await read_body(request, settings.max_payload_bytes)
    points = parse_points(body, int(time.time() * 1000), settings.max_future_s * 1000)
    (await rules_for(platform, device.profile_id)).check(points)
    await group_commit(platform, "http").store(device.id, points)
    await note_activity(platform, device.id)
