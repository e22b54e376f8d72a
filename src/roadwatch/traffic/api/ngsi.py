"""NGSI-LD export of the static traffic entities (FIWARE Smart Data Models): Road,
RoadSegment and Vehicle (patrol cars), normalized or `?options=keyValues`."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.runtime import SessionDep
from roadwatch.traffic.models import Segment
from roadwatch.traffic.ngsi import Entity
from roadwatch.traffic.ngsi.road import road_entity, segment_entity
from roadwatch.traffic.ngsi.vehicle import vehicle_entity
from roadwatch.traffic.repository import NetworkRepository, PatrolRepository

router = APIRouter(prefix="/api/v1/traffic/ngsi-ld", tags=["traffic", "ngsi-ld"])

CanReadTraffic = Annotated[Principal, authorize("traffic:read")]
CanReadPatrols = Annotated[Principal, authorize("patrols:read")]
Options = Annotated[
    Literal["keyValues", "normalized"] | None,
    Query(description="keyValues for plain values; normalized (the default) otherwise"),
]
LD_JSON = "application/ld+json"


def render(entities: list[Entity], options: str | None) -> JSONResponse:
    key_values = options == "keyValues"
    return JSONResponse([e.render(key_values) for e in entities], media_type=LD_JSON)


@router.get("/Road", operation_id="traffic_ngsi_roads")
async def ngsi_roads(
    session: SessionDep, principal: CanReadTraffic, options: Options = None
) -> JSONResponse:
    repo = NetworkRepository(session)
    by_road: dict[str, list[Segment]] = defaultdict(list)
    for segment in await repo.all_segments():
        by_road[segment.road_id].append(segment)
    roads = await repo.all_roads()
    return render([road_entity(r, by_road.get(r.id, [])) for r in roads], options)


@router.get("/RoadSegment", operation_id="traffic_ngsi_road_segments")
async def ngsi_road_segments(
    session: SessionDep, principal: CanReadTraffic, options: Options = None
) -> JSONResponse:
    segments = await NetworkRepository(session).all_segments()
    return render([segment_entity(s) for s in segments], options)


@router.get("/Vehicle", operation_id="traffic_ngsi_vehicles")
async def ngsi_vehicles(
    session: SessionDep, principal: CanReadPatrols, options: Options = None
) -> JSONResponse:
    units = await PatrolRepository(session).all_units()
    return render([vehicle_entity(u) for u in units], options)
