"""Stored rollup buckets of one device key, as kept by the stream."""

from __future__ import annotations

import math
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from roadwatch.analytics.aggregate import RESOLUTIONS
from roadwatch.analytics.repository import RollupRepository
from roadwatch.analytics.schemas import BucketRead, Resolution
from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import InvalidInput
from roadwatch.platform.runtime import ReadSessionDep

router = APIRouter(prefix="/api/v1/analytics/rollups", tags=["analytics"])

CanRead = Annotated[Principal, authorize("analytics:read")]
MAX_TS = 2**42
MAX_BUCKETS = 50_000


def bucket_dict(row: Any) -> dict[str, Any]:
    """A stored bucket as BucketRead's fields (built as a dict: a 30-day query at 1-minute
    resolution is 43,200 of them, and models would cost more than the query)."""
    variance = row.m2 / row.count
    return {
        "ts": row.bucket_ts,
        "count": row.count,
        "sum": row.sum,
        "min": row.min,
        "max": row.max,
        "mean": row.sum / row.count,
        "variance": variance,
        "stddev": math.sqrt(max(variance, 0.0)),
        "first_ts": row.first_ts,
        "first": row.first,
        "last_ts": row.last_ts,
        "last": row.last,
    }


@router.get(
    "/{device_id}",
    operation_id="analytics_rollups_get",
    response_model=list[BucketRead],
)
async def get_rollups(
    device_id: str,
    session: ReadSessionDep,
    principal: CanRead,
    key: Annotated[str, Query(min_length=1, max_length=255, description="the telemetry key")],
    start_ts: Annotated[int, Query(alias="startTs", ge=0, le=MAX_TS, description="ms, included")],
    end_ts: Annotated[int, Query(alias="endTs", ge=0, le=MAX_TS, description="ms, excluded")],
    resolution: Annotated[Resolution, Query(description="bucket width")] = Resolution.HOUR,
) -> Response:
    """The buckets starting in [startTs, endTs), oldest first; empty buckets are absent."""
    if end_ts <= start_ts:
        raise InvalidInput("endTs: must be after startTs", field="endTs")
    width = RESOLUTIONS[resolution.value]
    if (end_ts - start_ts) // width > MAX_BUCKETS:
        raise InvalidInput(
            f"endTs: at most {MAX_BUCKETS} buckets of {resolution.value} per request; "
            "choose a coarser resolution or a shorter range",
            field="endTs",
        )
    rows = await RollupRepository(session).rows([device_id], [key], width // 1000, start_ts, end_ts)
    return Response(orjson.dumps([bucket_dict(r) for r in rows]), media_type="application/json")
