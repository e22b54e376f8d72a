"""Detectors and cameras placed on segments (by the registry's device id)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import SessionDep
from roadwatch.traffic.schemas import CameraPlace, CameraRead, DetectorPlace, DetectorRead
from roadwatch.traffic.service.network import NetworkService
from roadwatch.traffic.service.placement import PlacementService, camera_read, detector_read

router = APIRouter(prefix="/api/v1/traffic", tags=["traffic"])

CanRead = Annotated[Principal, authorize("traffic:read")]
CanWrite = Annotated[Principal, authorize("traffic:write")]
SegmentFilter = Annotated[
    str | None, Query(alias="segment", max_length=64, description="only those on this segment")
]


@router.get("/detectors", operation_id="traffic_detectors_list")
async def list_detectors(
    session: SessionDep, principal: CanRead, page: PageParamsDep, segment: SegmentFilter = None
) -> Page[DetectorRead]:
    items, total = await PlacementService(session, principal.actor).list_detectors(page, segment)
    return Page(
        items=[detector_read(d) for d in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/segments/{segment_id}/detectors", operation_id="traffic_segment_detectors")
async def segment_detectors(
    segment_id: str, session: SessionDep, principal: CanRead
) -> list[DetectorRead]:
    """The segment's detectors from its upstream end to its downstream end."""
    segment = await NetworkService(session, principal.actor).get_segment(segment_id)
    service = PlacementService(session, principal.actor)
    return [detector_read(d) for d in await service.repo.detectors_on(segment.id)]


@router.get("/detectors/{device_id}", operation_id="traffic_detectors_get")
async def get_detector(device_id: str, session: SessionDep, principal: CanRead) -> DetectorRead:
    return detector_read(await PlacementService(session, principal.actor).get_detector(device_id))


@router.put("/detectors/{device_id}", operation_id="traffic_detectors_place")
async def place_detector(
    device_id: str,
    data: DetectorPlace,
    session: SessionDep,
    principal: CanWrite,
    response: Response,
) -> DetectorRead:
    """Place the device on a segment, or move it (201 when it was not placed before)."""
    row, fresh = await PlacementService(session, principal.actor).place_detector(device_id, data)
    if fresh:
        response.status_code = status.HTTP_201_CREATED
    return detector_read(row)


@router.delete(
    "/detectors/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="traffic_detectors_remove",
)
async def remove_detector(device_id: str, session: SessionDep, principal: CanWrite) -> None:
    await PlacementService(session, principal.actor).remove_detector(device_id)


@router.get("/cameras", operation_id="traffic_cameras_list")
async def list_cameras(
    session: SessionDep, principal: CanRead, page: PageParamsDep, segment: SegmentFilter = None
) -> Page[CameraRead]:
    items, total = await PlacementService(session, principal.actor).list_cameras(page, segment)
    return Page(
        items=[camera_read(c) for c in items], total=total, limit=page.limit, offset=page.offset
    )


@router.get("/cameras/{device_id}", operation_id="traffic_cameras_get")
async def get_camera(device_id: str, session: SessionDep, principal: CanRead) -> CameraRead:
    return camera_read(await PlacementService(session, principal.actor).get_camera(device_id))


@router.put("/cameras/{device_id}", operation_id="traffic_cameras_place")
async def place_camera(
    device_id: str,
    data: CameraPlace,
    session: SessionDep,
    principal: CanWrite,
    response: Response,
) -> CameraRead:
    row, fresh = await PlacementService(session, principal.actor).place_camera(device_id, data)
    if fresh:
        response.status_code = status.HTTP_201_CREATED
    return camera_read(row)


@router.delete(
    "/cameras/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="traffic_cameras_remove",
)
async def remove_camera(device_id: str, session: SessionDep, principal: CanWrite) -> None:
    await PlacementService(session, principal.actor).remove_camera(device_id)
