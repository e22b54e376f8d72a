"""Device attributes for the platform's users: read any scope, set shared and server ones
(shared ones are pushed to the device), delete, and see each key's history with who changed it.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status
from pydantic import BaseModel

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.pagination import Page, PageParamsDep, paginate
from roadwatch.platform.runtime import PlatformDep, ReadSessionDep
from roadwatch.telemetry.attributes import (
    InvalidAttributes,
    Scope,
    attributes_from,
    change_value,
    delete_attributes,
    history_statement,
    parse_key_list,
    read_attributes,
    require_device,
    set_attributes,
)
from roadwatch.telemetry.models import AttributeChange

router = APIRouter(prefix="/api/v1/telemetry", tags=["attributes"])

CanRead = Annotated[Principal, authorize("telemetry:read")]
CanWrite = Annotated[Principal, authorize("devices:write")]
KeysParam = Annotated[
    str | None, Query(description="comma-separated keys, e.g. `mode,lanes`; all when absent")
]


class AttributeRead(BaseModel):
    key: str
    value: Any
    # ms since the epoch of the last time it was set
    updated_ts: int


class AttributeChangeRead(BaseModel):
    # None when the change was a deletion
    value: Any
    deleted: bool
    changed_ts: int
    # "device:<id>", "user:<id>" or "apikey:<id>"
    actor: str


def _settable(scope: Scope) -> Scope:
    if scope is Scope.CLIENT:
        raise InvalidAttributes(
            "client attributes are reported by the device; set shared or server"
        )
    return scope


@router.get("/{device_id}/attributes/{scope}", operation_id="attributes_list")
async def list_attributes(
    device_id: str,
    scope: Scope,
    session: ReadSessionDep,
    principal: CanRead,
    keys: KeysParam = None,
) -> list[AttributeRead]:
    """The device's attributes of one scope, by key."""
    await require_device(session, device_id)
    found = await read_attributes(session, device_id, scope, parse_key_list(keys))
    return [AttributeRead(key=a.key, value=a.value, updated_ts=a.updated_ts) for a in found]


@router.post(
    "/{device_id}/attributes/{scope}",
    operation_id="attributes_set",
    responses={400: {"description": "client scope, or not a `{key: value}` object"}},
)
async def set_device_attributes(
    device_id: str,
    scope: Scope,
    platform: PlatformDep,
    principal: CanWrite,
    values: Annotated[dict[str, Any], Body(examples=[{"mode": "eco", "lanes": 3}])],
) -> list[AttributeRead]:
    """Set shared or server attributes `{key: value}`; shared ones reach the device (MQTT at
    once, HTTP through its long-poll). Answers the attributes as stored."""
    checked = attributes_from(values)
    now = int(time.time() * 1000)
    await set_attributes(platform, device_id, _settable(scope), checked, principal.actor, now)
    async with platform.db.session() as session:
        found = await read_attributes(session, device_id, scope, list(checked))
    return [AttributeRead(key=a.key, value=a.value, updated_ts=a.updated_ts) for a in found]


@router.delete(
    "/{device_id}/attributes/{scope}",
    operation_id="attributes_delete",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_device_attributes(
    device_id: str,
    scope: Scope,
    platform: PlatformDep,
    principal: CanWrite,
    keys: Annotated[str, Query(description="comma-separated keys to delete")],
) -> None:
    """Delete attributes of any scope (a device may report a client one again)."""
    names = parse_key_list(keys)
    if not names:
        raise InvalidAttributes("keys: name at least one key")
    now = int(time.time() * 1000)
    await delete_attributes(platform, device_id, scope, names, principal.actor, now)


@router.get("/{device_id}/attributes/{scope}/{key}/history", operation_id="attributes_history")
async def attribute_history(
    device_id: str,
    scope: Scope,
    key: str,
    session: ReadSessionDep,
    principal: CanRead,
    page: PageParamsDep,
) -> Page[AttributeChangeRead]:
    """Every change of the attribute, newest first unless `sort=changed_ts`."""
    await require_device(session, device_id)
    rows, total = await paginate(
        session,
        history_statement(device_id, scope, key),
        page,
        sortable={"changed_ts": AttributeChange.changed_ts},
        tiebreak=AttributeChange.id,
        default_sort="-changed_ts",
    )
    items = [
        AttributeChangeRead(
            value=change_value(r), deleted=r.deleted, changed_ts=r.changed_ts, actor=r.actor
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)
