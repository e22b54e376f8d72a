"""Routes of the traffic service: placement."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/traffic", tags=["traffic"])
