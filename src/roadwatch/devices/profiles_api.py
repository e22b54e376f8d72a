"""HTTP routes of device profiles, and the devices' own self-provisioning request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from roadwatch.devices.profiles import ProfileService, profile_read
from roadwatch.devices.provisioning import self_provision
from roadwatch.devices.schemas import (
    ProfileCreate,
    ProfileRead,
    ProfileUpdate,
    ProvisionRequest,
    ProvisionResponse,
)
from roadwatch.platform.auth import Principal, authorize, public
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import SessionDep

router = APIRouter(prefix="/api/v1/device-profiles", tags=["device profiles"])
provision_router = APIRouter(prefix="/api/v1/provision", tags=["device API"])

CanRead = Annotated[Principal, authorize("devices:read")]
CanWrite = Annotated[Principal, authorize("devices:write")]


@router.get("", operation_id="device_profiles_list")
async def list_profiles(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    q: Annotated[str | None, Query(max_length=200, description="search the name")] = None,
) -> Page[ProfileRead]:
    items, total = await ProfileService(session, principal.actor).list(page, q)
    return Page(
        items=[profile_read(p) for p in items], total=total, limit=page.limit, offset=page.offset
    )


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="device_profiles_create")
async def create_profile(
    data: ProfileCreate, session: SessionDep, principal: CanWrite, response: Response
) -> ProfileRead:
    profile = await ProfileService(session, principal.actor).create(data)
    response.headers["Location"] = f"{router.prefix}/{profile.id}"
    return profile_read(profile)


@router.get("/{profile_id}", operation_id="device_profiles_get")
async def get_profile(profile_id: str, session: SessionDep, principal: CanRead) -> ProfileRead:
    return profile_read(await ProfileService(session, principal.actor).get(profile_id))


@router.patch("/{profile_id}", operation_id="device_profiles_update")
async def update_profile(
    profile_id: str, data: ProfileUpdate, session: SessionDep, principal: CanWrite
) -> ProfileRead:
    return profile_read(await ProfileService(session, principal.actor).update(profile_id, data))


@router.delete(
    "/{profile_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="device_profiles_delete",
    responses={409: {"description": "devices still use the profile"}},
)
async def delete_profile(profile_id: str, session: SessionDep, principal: CanWrite) -> None:
    await ProfileService(session, principal.actor).delete(profile_id)


@provision_router.post(
    "",
    operation_id="device_provision",
    dependencies=[public()],
    responses={
        401: {"description": "no profile allows provisioning with this key and secret"},
        409: {"description": "a device of this name is already provisioned"},
    },
)
async def provision_device(data: ProvisionRequest, session: SessionDep) -> ProvisionResponse:
    """ThingsBoard's device self-provisioning: the device names itself and proves it knows
    its profile's provision key and secret; the answer holds its access token."""
    device_id, token = await self_provision(session, data)
    return ProvisionResponse(credentials_value=token, device_id=device_id)
