"""HTTP routes of the device registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from roadwatch.devices import csv_import
from roadwatch.devices.bulk import BulkProvisioning, json_rows
from roadwatch.devices.schemas import (
    Credentials,
    CredentialsChange,
    DeviceBulkCreate,
    DeviceBulkCreated,
    DeviceCreate,
    DeviceCreated,
    DeviceRead,
    DeviceType,
    DeviceUpdate,
    ProvisionedDevice,
)
from roadwatch.devices.service import DeviceService, to_read
from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.http import read_body
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
) -> DeviceCreated:
    """Register a device; the answer holds its access token, which is not shown again."""
    device, token = await DeviceService(session, principal.actor).create(data)
    response.headers["Location"] = f"{router.prefix}/{device.id}"
    return DeviceCreated(**to_read(device).model_dump(), access_token=token)


# 10,000 devices with labels and a little `extra` each fit well within it
MAX_BULK_BODY_BYTES = 8 * 1024 * 1024
CSV_TYPES = ("text/csv", "application/csv")


@router.post(
    "/bulk",
    status_code=status.HTTP_201_CREATED,
    operation_id="devices_bulk_create",
    responses={
        413: {"description": f"the body is over {MAX_BULK_BODY_BYTES} bytes"},
        422: {"description": "every wrong row listed in `errors`; nothing was created"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": DeviceBulkCreate.model_json_schema()},
                "text/csv": {
                    "schema": {
                        "type": "string",
                        "description": "a header row of "
                        + ",".join(csv_import.COLUMNS)
                        + " (only name required, any order), then one device per row",
                    }
                },
            },
        }
    },
)
async def bulk_create_devices(
    request: Request, session: SessionDep, principal: CanWrite
) -> DeviceBulkCreated:
    """Register many devices at once, all or none: JSON `{"devices": [...]}` or a CSV file.
    The answer holds each access token, which is not shown again."""
    body = await read_body(request, MAX_BULK_BODY_BYTES)
    service = BulkProvisioning(session, principal.actor)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in CSV_TYPES:
        read = csv_import.read_devices(body)
        provisioned = await service.provision(
            read.rows,
            found=read.errors,
            field_names=csv_import.FIELD_NAMES,
            numbering=csv_import.NUMBERING,
        )
    else:
        provisioned = await service.provision(json_rows(body))
    return DeviceBulkCreated(
        created=len(provisioned),
        devices=[
            ProvisionedDevice(id=p.id, name=p.name, access_token=p.access_token)
            for p in provisioned
        ],
    )


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


@router.post("/{device_id}/credentials", operation_id="devices_rotate_credentials")
async def rotate_credentials(
    device_id: str, data: CredentialsChange, session: SessionDep, principal: CanWrite
) -> Credentials:
    """Give the device a new access token (generated unless given); the old one stops working."""
    token = await DeviceService(session, principal.actor).rotate_credentials(
        device_id, data.access_token
    )
    return Credentials(device_id=device_id, access_token=token)


@router.delete(
    "/{device_id}/credentials",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="devices_revoke_credentials",
)
async def revoke_credentials(device_id: str, session: SessionDep, principal: CanWrite) -> None:
    """The device can no longer send anything until it is given new credentials."""
    await DeviceService(session, principal.actor).revoke_credentials(device_id)
