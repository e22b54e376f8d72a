"""HTTP routes of the analytics service, one file per resource, under /api/v1/analytics."""

from fastapi import APIRouter

from roadwatch.analytics.api.alarms import router as alarms_router
from roadwatch.analytics.api.history import router as history_router
from roadwatch.analytics.api.rollups import router as rollups_router
from roadwatch.analytics.api.rules import router as rules_router

PREFIX = "/api/v1/analytics"

router = APIRouter()
for _part in (rules_router, alarms_router, rollups_router, history_router):
    router.include_router(_part)

__all__ = ["PREFIX", "router"]
