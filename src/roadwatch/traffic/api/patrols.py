"""Patrol units: their crews, status lifecycle, tracker, position, track, and the nearest
units to a point."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import SessionDep
from roadwatch.traffic.schemas import (
    NearestPatrol,
    PatrolCreate,
    PatrolRead,
    PatrolStatus,
    PatrolStatusChange,
    PatrolUpdate,
)
from roadwatch.traffic.service.patrols import PatrolService, patrol_read

router = APIRouter(prefix="/api/v1/traffic/patrols", tags=["patrols"])

CanRead = Annotated[Principal, authorize("patrols:read")]
CanWrite = Annotated[Principal, authorize("patrols:write")]


class TrackPointRead(BaseModel):
    ts: int
    lon: float
    lat: float
    speed_kmh: float | None
    heading_deg: float | None


@router.get("", operation_id="traffic_patrols_list")
async def list_patrols(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    unit_status: Annotated[PatrolStatus | None, Query(alias="status")] = None,
    home_zone: Annotated[str | None, Query(max_length=120)] = None,
) -> Page[PatrolRead]:
    items, total = await PatrolService(session, principal.actor).list_units(
        page, unit_status.value if unit_status else None, home_zone
    )
    return Page(
        items=[patrol_read(u) for u in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/nearest", operation_id="traffic_patrols_nearest")
async def nearest_patrols(
    session: SessionDep,
    principal: CanRead,
    lon: Annotated[float, Query(ge=-180, le=180)],
    lat: Annotated[float, Query(ge=-90, le=90)],
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
    unit_status: Annotated[
        PatrolStatus | None,
        Query(alias="status", description="only units in this status (default available)"),
    ] = PatrolStatus.AVAILABLE,
) -> list[NearestPatrol]:
    """Units with a known position, nearest first (great-circle distance in metres)."""
    return await PatrolService(session, principal.actor).nearest(
        lon, lat, limit, unit_status.value if unit_status else None
    )


@router.post("", status_code=status.HTTP_201_CREATED, operation_id="traffic_patrols_create")
async def create_patrol(
    data: PatrolCreate, session: SessionDep, principal: CanWrite, response: Response
) -> PatrolRead:
    unit = await PatrolService(session, principal.actor).create(data)
    response.headers["Location"] = f"{router.prefix}/{unit.id}"
    return patrol_read(unit)


@router.get("/{unit_id}", operation_id="traffic_patrols_get")
async def get_patrol(unit_id: str, session: SessionDep, principal: CanRead) -> PatrolRead:
    return patrol_read(await PatrolService(session, principal.actor).get(unit_id))


@router.patch("/{unit_id}", operation_id="traffic_patrols_update")
async def update_patrol(
    unit_id: str, data: PatrolUpdate, session: SessionDep, principal: CanWrite
) -> PatrolRead:
    return patrol_read(await PatrolService(session, principal.actor).update(unit_id, data))


@router.post("/{unit_id}/status", operation_id="traffic_patrols_status")
async def change_patrol_status(
    unit_id: str, data: PatrolStatusChange, session: SessionDep, principal: CanWrite
) -> PatrolRead:
    """off_duty ↔ available → en_route → on_scene → available; 409 for any other step."""
    service = PatrolService(session, principal.actor)
    return patrol_read(await service.change_status(unit_id, data.status))


@router.get("/{unit_id}/track", operation_id="traffic_patrols_track")
async def patrol_track(
    unit_id: str,
    session: SessionDep,
    principal: CanRead,
    start_ts: Annotated[int | None, Query(alias="startTs", ge=0)] = None,
    end_ts: Annotated[int | None, Query(alias="endTs", ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> list[TrackPointRead]:
    """The unit's GPS fixes in [startTs, endTs), oldest first (the newest `limit`)."""
    points = await PatrolService(session, principal.actor).track(unit_id, start_ts, end_ts, limit)
    return [TrackPointRead.model_validate(p, from_attributes=True) for p in points]


@router.delete(
    "/{unit_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="traffic_patrols_delete"
)
async def delete_patrol(unit_id: str, session: SessionDep, principal: CanWrite) -> None:
    await PatrolService(session, principal.actor).delete(unit_id)
