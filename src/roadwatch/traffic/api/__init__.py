"""HTTP routes of the traffic service, one file per resource, under /api/v1/traffic.

Each part of the service adds its router to `_PARTS`.
"""

from fastapi import APIRouter

from roadwatch.traffic.api.detections import router as detections_router
from roadwatch.traffic.api.health import router as health_router
from roadwatch.traffic.api.network import router as network_router
from roadwatch.traffic.api.ngsi import router as ngsi_router
from roadwatch.traffic.api.patrols import router as patrols_router
from roadwatch.traffic.api.placement import router as placement_router
from roadwatch.traffic.api.state import router as state_router

PREFIX = "/api/v1/traffic"

# health first: /detectors/health must not be taken for a detector named "health"
_PARTS = (
    health_router,
    state_router,
    network_router,
    placement_router,
    patrols_router,
    ngsi_router,
    detections_router,
)

router = APIRouter()
for _part in _PARTS:
    router.include_router(_part)

__all__ = ["PREFIX", "router"]
