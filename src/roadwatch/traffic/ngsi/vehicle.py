"""Vehicle (Smart Data Models, Transportation) for patrol cars: position, speed (km/h),
heading (degrees from north) and service status from the unit's last GPS fix."""

from __future__ import annotations

from roadwatch.traffic.models import PatrolUnit
from roadwatch.traffic.ngsi import Entity, iso, urn

# serviceStatus of the Vehicle model for each patrol status
_SERVICE_STATUS = {
    "off_duty": "outOfService",
    "available": "parked",
    "en_route": "onRoute",
    "on_scene": "parked",
}


def vehicle_entity(unit: PatrolUnit) -> Entity:
    located = unit.lon is not None and unit.lat is not None
    moving = (unit.speed_kmh or 0) > 0
    status = _SERVICE_STATUS.get(unit.status, "parked")
    if unit.status == "available" and moving:
        status = "onRoute"
    return Entity(
        id=urn("Vehicle", unit.id),
        type="Vehicle",
        attributes={
            "name": unit.call_sign,
            "fleetVehicleId": unit.call_sign,
            "description": unit.vehicle or None,
            "vehicleType": "car",
            "category": ["municipalServices"],
            "serviceStatus": status,
            "location": {"type": "Point", "coordinates": [unit.lon, unit.lat]} if located else None,
            "speed": unit.speed_kmh,
            "heading": unit.heading_deg,
            "observationDateTime": iso(unit.position_ts) if unit.position_ts else None,
            "refVehicleModel": None,
            "dateModified": iso(unit.updated_at),
        },
    )
