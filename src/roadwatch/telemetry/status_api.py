"""Whether devices are online, as the telemetry service sees their activity."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import NotFound
from roadwatch.platform.runtime import PlatformDep
from roadwatch.telemetry.status import device_status

router = APIRouter(prefix="/api/v1/telemetry", tags=["telemetry"])

CanRead = Annotated[Principal, authorize("telemetry:read")]


class DeviceStatus(BaseModel):
    online: bool
    # ms since the epoch of the last message, None if it never sent anything
    last_activity_ts: int | None


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_ids: list[str] = Field(min_length=1, max_length=1000)


@router.get("/{device_id}/status", operation_id="telemetry_device_status")
async def get_status(device_id: str, platform: PlatformDep, principal: CanRead) -> DeviceStatus:
    found = await device_status(platform, [device_id])
    if device_id not in found:
        raise NotFound(f"device {device_id} not found")
    return DeviceStatus(**found[device_id])


@router.post("/status", operation_id="telemetry_many_statuses")
async def many_statuses(
    data: StatusRequest, platform: PlatformDep, principal: CanRead
) -> dict[str, DeviceStatus]:
    """The status of many devices at once (unknown ids are left out)."""
    found = await device_status(platform, data.device_ids)
    return {device_id: DeviceStatus(**status) for device_id, status in found.items()}
