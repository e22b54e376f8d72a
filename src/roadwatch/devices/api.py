"""HTTP routes of the device registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from roadwatch.devices.schemas import DeviceCreate, DeviceRead, DeviceType, DeviceUpdate
from roadwatch.devices.service import DeviceService, to_read
from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import SessionDep

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])

CanRead = Annotated[Principal, authorize("devices:read")]
CanWrite = Annotated[Principal, authorize("devices:write")]


@router.get("", operation_id="devices_list")
async def list_devices(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    type: Annotated[DeviceType | None, Query(description="only devices of this type")] = None,
    q: Annotated[str | None, Query(max_length=200, description="search name and label")] = None,
) -> Page[DeviceRead]:
    items, total = await DeviceService(session, principal.actor).list(
        page, type.value if type else None, q
    )
    return Page(
        items=[to_read(d) for d in items], total=total, limit=page.limit, offset=page.offset
    )


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="devices_create")
async def create_device(
    data: DeviceCreate, session: SessionDep, principal: CanWrite, response: Response
) -> DeviceRead:
    device = await DeviceService(session, principal.actor).create(data)
    response.headers["Location"] = f"{router.prefix}/{device.id}"
    return to_read(device)


@router.get("/{device_id}", operation_id="devices_get")
async def get_device(device_id: str, session: SessionDep, principal: CanRead) -> DeviceRead:
    return to_read(await DeviceService(session, principal.actor).get(device_id))


@router.patch("/{device_id}", operation_id="devices_update")
async def update_device(
    device_id: str, data: DeviceUpdate, session: SessionDep, principal: CanWrite
) -> DeviceRead:
    return to_read(await DeviceService(session, principal.actor).update(device_id, data))


@router.delete(
    "/{device_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="devices_delete"
)
async def delete_device(device_id: str, session: SessionDep, principal: CanWrite) -> None:
    await DeviceService(session, principal.actor).delete(device_id)
