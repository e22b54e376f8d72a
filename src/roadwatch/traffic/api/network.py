"""The road network: roads, directed segments and their topology; whole networks imported
(GeoJSON, SUMO .net.xml) and exported (GeoJSON)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import DomainError, InvalidInput, PayloadTooLarge
from roadwatch.platform.pagination import Page, PageParamsDep
from roadwatch.platform.runtime import SessionDep
from roadwatch.traffic.network import geojson, sumo
from roadwatch.traffic.schemas import (
    ImportReport,
    RoadClass,
    RoadCreate,
    RoadRead,
    RoadUpdate,
    SegmentCreate,
    SegmentRead,
    SegmentStatus,
    SegmentUpdate,
)
from roadwatch.traffic.service.network import NetworkService, road_read, segment_read

router = APIRouter(prefix="/api/v1/traffic", tags=["traffic"])

CanRead = Annotated[Principal, authorize("traffic:read")]
CanWrite = Annotated[Principal, authorize("traffic:write")]

# a city's network is a few MB of GeoJSON or XML; more is a mistake or an abuse
MAX_IMPORT_BYTES = 50 * 1024 * 1024


class UnsupportedMediaType(DomainError):
    status = 415
    title = "Unsupported media type"
    kind = "unsupported-media-type"


# --- roads -----------------------------------------------------------------------------


@router.get("/roads", operation_id="traffic_roads_list")
async def list_roads(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    road_class: Annotated[
        RoadClass | None, Query(alias="class", description="only roads of this class")
    ] = None,
) -> Page[RoadRead]:
    items, total = await NetworkService(session, principal.actor).list_roads(page, road_class)
    return Page(
        items=[road_read(r) for r in items], total=total, limit=page.limit, offset=page.offset
    )


@router.post("/roads", status_code=status.HTTP_201_CREATED, operation_id="traffic_roads_create")
async def create_road(
    data: RoadCreate, session: SessionDep, principal: CanWrite, response: Response
) -> RoadRead:
    road = await NetworkService(session, principal.actor).create_road(data)
    response.headers["Location"] = f"{router.prefix}/roads/{road.id}"
    return road_read(road)


@router.get("/roads/{road_id}", operation_id="traffic_roads_get")
async def get_road(road_id: str, session: SessionDep, principal: CanRead) -> RoadRead:
    return road_read(await NetworkService(session, principal.actor).get_road(road_id))


@router.patch("/roads/{road_id}", operation_id="traffic_roads_update")
async def update_road(
    road_id: str, data: RoadUpdate, session: SessionDep, principal: CanWrite
) -> RoadRead:
    return road_read(await NetworkService(session, principal.actor).update_road(road_id, data))


@router.delete(
    "/roads/{road_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="traffic_roads_delete"
)
async def delete_road(road_id: str, session: SessionDep, principal: CanWrite) -> None:
    await NetworkService(session, principal.actor).delete_road(road_id)


# --- segments --------------------------------------------------------------------------


@router.get("/segments", operation_id="traffic_segments_list")
async def list_segments(
    session: SessionDep,
    principal: CanRead,
    page: PageParamsDep,
    road: Annotated[str | None, Query(max_length=64, description="only this road's")] = None,
    road_class: Annotated[
        RoadClass | None, Query(alias="class", description="only segments of this class")
    ] = None,
    segment_status: Annotated[
        SegmentStatus | None, Query(alias="status", description="open, closed or limited")
    ] = None,
) -> Page[SegmentRead]:
    items, total = await NetworkService(session, principal.actor).list_segments(
        page, road, road_class, segment_status.value if segment_status else None
    )
    return Page(
        items=[segment_read(s) for s in items], total=total, limit=page.limit, offset=page.offset
    )


@router.post(
    "/segments", status_code=status.HTTP_201_CREATED, operation_id="traffic_segments_create"
)
async def create_segment(
    data: SegmentCreate, session: SessionDep, principal: CanWrite, response: Response
) -> SegmentRead:
    segment = await NetworkService(session, principal.actor).create_segment(data)
    response.headers["Location"] = f"{router.prefix}/segments/{segment.id}"
    return segment_read(segment)


@router.get("/segments/{segment_id}", operation_id="traffic_segments_get")
async def get_segment(segment_id: str, session: SessionDep, principal: CanRead) -> SegmentRead:
    return segment_read(await NetworkService(session, principal.actor).get_segment(segment_id))


@router.patch("/segments/{segment_id}", operation_id="traffic_segments_update")
async def update_segment(
    segment_id: str, data: SegmentUpdate, session: SessionDep, principal: CanWrite
) -> SegmentRead:
    service = NetworkService(session, principal.actor)
    return segment_read(await service.update_segment(segment_id, data))


@router.delete(
    "/segments/{segment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="traffic_segments_delete",
)
async def delete_segment(segment_id: str, session: SessionDep, principal: CanWrite) -> None:
    await NetworkService(session, principal.actor).delete_segment(segment_id)


# --- import / export -------------------------------------------------------------------

_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/geo+json": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
            "application/xml": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


async def _upload(request: Request) -> tuple[str, bytes]:
    """("geojson" | "sumo", the bytes) of the request, by its media type or file name."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    declared = int(request.headers.get("content-length") or 0)
    if declared > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"a network file may be at most {MAX_IMPORT_BYTES} bytes")
    if media == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput(
                "file: a multipart import needs the network as the part named 'file'",
                errors=[{"field": "file", "message": "missing"}],
            )
        content = await upload.read()
        name = (upload.filename or "").lower()
        if name.endswith((".xml", ".net.xml")):
            return "sumo", content
        if name.endswith((".json", ".geojson")):
            return "geojson", content
        return ("sumo" if content.lstrip().startswith(b"<") else "geojson"), content
    content = await request.body()
    if len(content) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(f"a network file may be at most {MAX_IMPORT_BYTES} bytes")
    if media in ("application/json", "application/geo+json"):
        return "geojson", content
    if media in ("application/xml", "text/xml"):
        return "sumo", content
    raise UnsupportedMediaType(
        f"cannot import {media or 'a body without a Content-Type'}: send GeoJSON "
        "(application/geo+json or application/json), a SUMO network (application/xml) or "
        "either as the multipart part 'file'"
    )


@router.post("/network/import", operation_id="traffic_network_import", openapi_extra=_IMPORT_BODY)
async def import_network(
    request: Request,
    session: SessionDep,
    principal: CanWrite,
    origin_lon: Annotated[
        float, Query(ge=-180, le=180, description="SUMO nets without a projection: origin")
    ] = 0.0,
    origin_lat: Annotated[float, Query(ge=-90, le=90)] = 0.0,
) -> ImportReport:
    """Create or update every road, segment and detector of the file, or none of them: a
    422 lists each feature's problems. Importing the same file again changes nothing."""
    kind, content = await _upload(request)
    if kind == "sumo":
        try:
            draft = sumo.parse(content, (origin_lon, origin_lat))
        except sumo.SumoUnavailable as exc:
            raise UnsupportedMediaType(str(exc), missing_extra="sumo") from None
    else:
        try:
            body = json.loads(content)
        except ValueError as exc:
            raise InvalidInput(
                f"body: not JSON: {exc}", errors=[{"field": "body", "message": str(exc)}]
            ) from None
        draft = geojson.parse(body)
    return await NetworkService(session, principal.actor).import_draft(draft)


@router.get("/network.geojson", operation_id="traffic_network_export")
async def export_network(session: SessionDep, principal: CanRead) -> JSONResponse:
    """Every segment (LineString), placed detector and camera (Point) as GeoJSON."""
    body = await NetworkService(session, principal.actor).export_geojson()
    return JSONResponse(body, media_type="application/geo+json")
