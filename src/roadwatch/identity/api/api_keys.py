"""API keys for integrations: created with scopes and an expiry, shown once, revocable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from roadwatch.identity.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from roadwatch.identity.service.api_keys import ApiKeyService, to_read
from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import PlatformDep, SessionDep

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])

CanRead = Annotated[Principal, authorize("api_keys:read")]
CanWrite = Annotated[Principal, authorize("api_keys:write")]


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="api_keys_create")
async def create_api_key(
    data: ApiKeyCreate,
    session: SessionDep,
    platform: PlatformDep,
    principal: CanWrite,
    response: Response,
) -> ApiKeyCreated:
    """The response holds the key itself; it is not stored and cannot be shown again."""
    key, secret = await ApiKeyService(platform, session, principal.actor).create(data, principal)
    response.headers["Location"] = f"{router.prefix}/{key.id}"
    return ApiKeyCreated(**to_read(key).model_dump(), key=secret)


@router.get("", operation_id="api_keys_list")
async def list_api_keys(
    session: SessionDep,
    platform: PlatformDep,
    principal: CanRead,
    page: PageParamsDep,
    include_revoked: Annotated[bool, Query()] = False,
) -> Page[ApiKeyRead]:
    items, total = await ApiKeyService(platform, session, principal.actor).list(
        page, include_revoked
    )
    return Page(
        items=[to_read(k) for k in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/{key_id}", operation_id="api_keys_get")
async def get_api_key(
    key_id: str, session: SessionDep, platform: PlatformDep, principal: CanRead
) -> ApiKeyRead:
    return to_read(await ApiKeyService(platform, session, principal.actor).get(key_id))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="api_keys_revoke")
async def revoke_api_key(
    key_id: str, session: SessionDep, platform: PlatformDep, principal: CanWrite
) -> None:
    await ApiKeyService(platform, session, principal.actor).revoke(key_id)
