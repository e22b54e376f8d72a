"""The platform's batch endpoint: many devices' points in one request, JSON or MessagePack,
for site gateways and bulk back-fill by integrations. All or nothing: every device and
payload is checked before anything is stored, and every problem is reported at once.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgpack
from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import InvalidInput
from roadwatch.platform.http import read_body
from roadwatch.platform.runtime import PlatformDep
from roadwatch.telemetry.models import DirectoryDevice
from roadwatch.telemetry.points import InvalidPayload, Point, decode, points_from
from roadwatch.telemetry.profiles import rules_for
from roadwatch.telemetry.store import store_batches

router = APIRouter(prefix="/api/v1/telemetry", tags=["telemetry"])

CanWrite = Annotated[Principal, authorize("telemetry:write")]
MSGPACK = ("application/msgpack", "application/x-msgpack", "application/vnd.msgpack")
MAX_DEVICES = 10_000
# a batch may carry many devices: it gets a larger allowance than one device's message
BATCH_SIZE_FACTOR = 16


class BatchStored(BaseModel):
    devices: int
    points: int


def _decode(body: bytes, content_type: str) -> Any:
    if content_type.split(";")[0].strip().lower() in MSGPACK:
        try:
            return msgpack.unpackb(body, raw=False, strict_map_key=True)
        except (msgpack.ExtraData, msgpack.FormatError, msgpack.StackError, ValueError) as exc:
            raise InvalidInput(f"body: malformed MessagePack ({exc})", field="body") from None
    try:
        return decode(body)
    except InvalidPayload as exc:
        raise InvalidInput(f"body: {exc.detail}", field="body") from None


async def _known(platform: PlatformDep, device_ids: list[str]) -> dict[str, str | None]:
    """The active devices among these, with their profiles."""
    known: dict[str, str | None] = {}
    async with platform.db.read_session() as session:
        for start in range(0, len(device_ids), 1000):
            chunk = device_ids[start : start + 1000]
            rows = await session.execute(
                select(DirectoryDevice.id, DirectoryDevice.profile_id).where(
                    DirectoryDevice.id.in_(chunk), DirectoryDevice.active.is_(True)
                )
            )
            known.update((row.id, row.profile_id) for row in rows)
    return known


@router.post(
    "/batch",
    operation_id="telemetry_batch",
    responses={422: {"description": "unknown devices or bad payloads, each one listed"}},
)
async def post_batch(request: Request, platform: PlatformDep, principal: CanWrite) -> BatchStored:
    """Store `{"<device id>": <telemetry payload>, ...}`; each payload takes any of the
    device API's shapes. Send `Content-Type: application/msgpack` for MessagePack."""
    settings = platform.settings.telemetry
    body = await read_body(request, settings.max_payload_bytes * BATCH_SIZE_FACTOR)
    data = _decode(body, request.headers.get("content-type", "application/json"))
    if not isinstance(data, dict) or not data:
        raise InvalidInput("body: expected a non-empty object of device id: payload", field="body")
    if len(data) > MAX_DEVICES:
        raise InvalidInput(f"body: at most {MAX_DEVICES} devices per batch", field="body")

    errors: list[dict[str, str]] = []
    known = await _known(platform, list(data))
    now_ms = int(time.time() * 1000)
    batches: dict[str, list[Point]] = {}
    for device_id, payload in data.items():
        if device_id not in known:
            errors.append({"field": device_id, "message": "no such device"})
            continue
        try:
            points = points_from(payload, now_ms, settings.max_future_s * 1000)
            (await rules_for(platform, known[device_id])).check(points)
            batches[device_id] = points
        except InvalidPayload as exc:
            errors.append({"field": device_id, "message": exc.detail})
    if errors:
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        raise InvalidInput(
            f"{len(errors)} device(s) in the batch are wrong, nothing stored: {summary}",
            errors=errors,
        )
    await store_batches(platform, batches, source=f"batch:{principal.actor}")
    return BatchStored(devices=len(batches), points=sum(len(p) for p in batches.values()))
