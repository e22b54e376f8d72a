"""Road and RoadSegment (Smart Data Models, Transportation): lengths in km, speeds in km/h."""

from __future__ import annotations

from roadwatch.traffic.models import Road, Segment
from roadwatch.traffic.ngsi import Entity, iso, urn

# roadClass of the Road model (OpenStreetMap's highway values); our classes that are not
# among them are reported as the nearest one
_ROAD_CLASSES = {
    "motorway": "motorway",
    "trunk": "trunk",
    "primary": "primary",
    "secondary": "secondary",
    "tertiary": "tertiary",
    "residential": "residential",
    "unclassified": "unclassified",
    "service": "service",
    "arterial": "primary",
    "ring": "primary",
    "collector": "secondary",
    "local": "residential",
}


def road_entity(road: Road, segments: list[Segment]) -> Entity:
    return Entity(
        id=urn("Road", road.id),
        type="Road",
        attributes={
            "name": road.name,
            "roadClass": _ROAD_CLASSES.get(road.road_class, "unclassified"),
            "refRoadSegment": [urn("RoadSegment", s.id) for s in segments],
            "length": round(sum(s.length_m for s in segments) / 1000, 3),
            "dateModified": iso(road.updated_at),
        },
        relationships=frozenset({"refRoadSegment"}),
    )


def segment_entity(segment: Segment) -> Entity:
    start, end = segment.geometry[0], segment.geometry[-1]
    return Entity(
        id=urn("RoadSegment", segment.id),
        type="RoadSegment",
        attributes={
            "name": segment.name,
            "refRoad": urn("Road", segment.road_id),
            "location": {"type": "LineString", "coordinates": segment.geometry},
            "startPoint": {"type": "Point", "coordinates": start},
            "endPoint": {"type": "Point", "coordinates": end},
            "allowedVehicleType": ["anyVehicle"],
            "totalLaneNumber": segment.lanes,
            "length": round(segment.length_m / 1000, 4),
            "maximumAllowedSpeed": segment.speed_limit_kmh,
            # a directed segment carries one direction of travel
            "category": ["oneway"],
            "laneUsage": ["forward"] * segment.lanes,
            "status": segment.status,
            "dateModified": iso(segment.updated_at),
        },
        relationships=frozenset({"refRoad"}),
    )
