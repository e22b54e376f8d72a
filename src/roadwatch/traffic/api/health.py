"""Routes of detector health: each placed detector's PeMS diagnosis for a local day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import NotFound
from roadwatch.platform.runtime import PlatformDep, ReadSessionDep
from roadwatch.traffic.models import Detector
from roadwatch.traffic.state import reports
from roadwatch.traffic.state.schemas import HealthRead

router = APIRouter(prefix="/api/v1/traffic/detectors", tags=["traffic state"])

CanRead = Annotated[Principal, authorize("traffic:read")]
Day = Annotated[date | None, Query(description="the local day, YYYY-MM-DD; today if absent")]


def _today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


@router.get("/health", operation_id="traffic_detectors_health", response_model=list[HealthRead])
async def list_health(
    session: ReadSessionDep, platform: PlatformDep, principal: CanRead, day: Day = None
) -> list[HealthRead]:
    """Every placed detector's diagnosis for the day, by device id."""
    settings = platform.settings.traffic
    return await reports.detector_health(session, settings, day or _today(settings.timezone))


@router.get(
    "/{device_id}/health", operation_id="traffic_detector_health", response_model=HealthRead
)
async def get_health(
    device_id: str,
    session: ReadSessionDep,
    platform: PlatformDep,
    principal: CanRead,
    day: Day = None,
) -> HealthRead:
    if await session.get(Detector, device_id) is None:
        raise NotFound(f"detector {device_id} not found (no device placed with that id)")
    settings = platform.settings.traffic
    found = await reports.detector_health(
        session, settings, day or _today(settings.timezone), [device_id]
    )
    return found[0]
