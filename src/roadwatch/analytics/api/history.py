"""Historical analytics: aggregated series (rollup or raw chosen by the range), percentiles,
top-N devices, two periods compared, per-profile fleet summaries.

Answers are cached (the platform cache: in-process, or Redis shared by replicas) under a
key holding the data version of the devices involved, which every batch that changes
their rollups raises, so new data, late points included, is never answered from cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response

from roadwatch.analytics.service.history import HistoryService
from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.errors import InvalidInput
from roadwatch.platform.runtime import PlatformDep, ReadSessionDep

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

CanRead = Annotated[Principal, authorize("analytics:read")]
MAX_TS = 2**42
CACHE_TTL_S = 600
StartTs = Annotated[int, Query(alias="startTs", ge=0, le=MAX_TS, description="ms, included")]
EndTs = Annotated[int, Query(alias="endTs", ge=0, le=MAX_TS, description="ms, excluded")]
Key = Annotated[str, Query(min_length=1, max_length=255, description="the telemetry key")]
Stat = Literal["mean", "min", "max", "sum", "count", "stddev"]


def _range(start_ts: int, end_ts: int, name: str = "endTs") -> None:
    if end_ts <= start_ts:
        raise InvalidInput(f"{name}: must be after the start", field=name)


async def _cached(
    platform: PlatformDep, parts: list[object], compute: Callable[[], Awaitable[Any]]
) -> Response:
    digest = hashlib.sha256(orjson.dumps([str(p) for p in parts])).hexdigest()[:32]
    key = f"analytics:q:{digest}"
    hit = await platform.cache.get(key)
    if hit is not None:
        return Response(hit, media_type="application/json", headers={"X-Cache": "hit"})
    body = orjson.dumps(await compute())
    await platform.cache.set(key, body, ttl_s=CACHE_TTL_S)
    return Response(body, media_type="application/json", headers={"X-Cache": "miss"})


@router.get("/series/{device_id}", operation_id="analytics_series_get")
async def get_series(
    device_id: str,
    platform: PlatformDep,
    session: ReadSessionDep,
    principal: CanRead,
    key: Key,
    start_ts: StartTs,
    end_ts: EndTs,
    interval: Annotated[
        int | None,
        Query(ge=1, le=MAX_TS, description="bucket width in ms; chosen for ≤ 1000 if absent"),
    ] = None,
    agg: Annotated[
        Literal["AVG", "MIN", "MAX", "SUM", "COUNT", "STDDEV"], Query(description="per bucket")
    ] = "AVG",
) -> Response:
    """`{"source": "rollup:1h" | "rollup:5m" | "rollup:1m" | "raw", "interval", "points":
    [{"ts", "value"}]}`: the coarsest rollup that tiles interval and range is read."""
    _range(start_ts, end_ts)
    if interval is None:
        span = end_ts - start_ts
        interval = next(
            (w for w in (60_000, 300_000, 3_600_000, 86_400_000) if span // w <= 1000),
            86_400_000,
        )
    history = HistoryService(session)
    version = await history.data_version([device_id])

    async def compute() -> Any:
        series = await history.series(device_id, key, start_ts, end_ts, interval, agg)
        return {"source": series.source, "interval": series.interval, "points": series.points}

    return await _cached(
        platform, ["series", device_id, version, key, start_ts, end_ts, interval, agg], compute
    )


@router.get("/percentiles/{device_id}", operation_id="analytics_percentiles_get")
async def get_percentiles(
    device_id: str,
    platform: PlatformDep,
    session: ReadSessionDep,
    principal: CanRead,
    key: Key,
    start_ts: StartTs,
    end_ts: EndTs,
    p: Annotated[str, Query(description="comma-separated ranks 0..100", max_length=200)] = (
        "50,90,95,99"
    ),
) -> Response:
    """Percentiles of the raw points in the range (exact, linear interpolation)."""
    _range(start_ts, end_ts)
    try:
        ranks = [float(x) for x in p.split(",") if x.strip()]
    except ValueError:
        raise InvalidInput(f"p: {p!r} is not a list of numbers", field="p") from None
    if not ranks or any(not 0 <= r <= 100 for r in ranks):
        raise InvalidInput("p: ranks must be between 0 and 100", field="p")
    history = HistoryService(session)
    version = await history.data_version([device_id])
    return await _cached(
        platform,
        ["pct", device_id, version, key, start_ts, end_ts, ranks],
        lambda: history.percentiles(device_id, key, start_ts, end_ts, ranks),
    )


@router.get("/top", operation_id="analytics_top_get")
async def get_top(
    platform: PlatformDep,
    session: ReadSessionDep,
    principal: CanRead,
    key: Key,
    start_ts: StartTs,
    end_ts: EndTs,
    stat: Annotated[Stat, Query(description="the statistic ranked")] = "mean",
    n: Annotated[int, Query(ge=1, le=1000)] = 10,
    order: Annotated[Literal["desc", "asc"], Query()] = "desc",
) -> Response:
    """The n devices with the highest (or lowest) statistic of the key over the range
    (whole minutes; read from rollups)."""
    _range(start_ts, end_ts)
    history = HistoryService(session)
    version = await history.data_version()
    return await _cached(
        platform,
        ["top", version, key, start_ts, end_ts, stat, n, order],
        lambda: history.top(key, start_ts, end_ts, stat, n, order == "desc"),
    )


@router.get("/compare/{device_id}", operation_id="analytics_compare_get")
async def compare_periods(
    device_id: str,
    platform: PlatformDep,
    session: ReadSessionDep,
    principal: CanRead,
    key: Key,
    a_start: Annotated[int, Query(alias="aStart", ge=0, le=MAX_TS)],
    a_end: Annotated[int, Query(alias="aEnd", ge=0, le=MAX_TS)],
    b_start: Annotated[int, Query(alias="bStart", ge=0, le=MAX_TS)],
    b_end: Annotated[int, Query(alias="bEnd", ge=0, le=MAX_TS)],
) -> Response:
    """Count, mean, min, max, stddev of two periods (whole minutes) and b's change from a."""
    _range(a_start, a_end, "aEnd")
    _range(b_start, b_end, "bEnd")
    history = HistoryService(session)
    version = await history.data_version([device_id])

    async def compute() -> Any:
        a = await history.period(device_id, key, a_start, a_end)
        b = await history.period(device_id, key, b_start, b_end)
        change = {
            name: (b[name] - a[name]) if a[name] is not None and b[name] is not None else None
            for name in ("count", "mean", "min", "max", "stddev")
        }
        ratio = b["mean"] / a["mean"] if a["mean"] and b["mean"] is not None else None
        return {"a": a, "b": b, "change": change, "mean_ratio": ratio}

    return await _cached(
        platform, ["cmp", device_id, version, key, a_start, a_end, b_start, b_end], compute
    )


@router.get("/fleet", operation_id="analytics_fleet_get")
async def fleet_summary(
    platform: PlatformDep,
    session: ReadSessionDep,
    principal: CanRead,
    key: Key,
    start_ts: StartTs,
    end_ts: EndTs,
) -> Response:
    """Per device profile (or `type:<device type>` for devices without one): how many
    devices sent the key, and count, mean, min, max, stddev over all their points."""
    _range(start_ts, end_ts)
    history = HistoryService(session)
    version = await history.data_version()
    return await _cached(
        platform,
        ["fleet", version, key, start_ts, end_ts],
        lambda: history.fleet(key, start_ts, end_ts),
    )
