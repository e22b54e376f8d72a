"""The time-series query API: ThingsBoard's semantics (keys, startTs/endTs, interval, agg,
limit, orderBy) plus standard deviation, percentiles, many devices' latest values at once
and CSV export. docs/telemetry-queries.md describes it with examples.

A device the telemetry service has no points for answers empty results, not 404, as
ThingsBoard does: it learns of devices from events and reads from a replica, so a 404 could
be wrong for a device created a moment ago, and a deleted device's history stays readable.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from roadwatch.platform.auth import Principal, authorize
from roadwatch.platform.runtime import Platform, PlatformDep, ReadSessionDep
from roadwatch.telemetry import queries
from roadwatch.telemetry.points import Value
from roadwatch.telemetry.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_TS,
    Aggregation,
    LatestRequest,
    Order,
    TimeseriesQuery,
    TsValue,
    check_range,
    parse_keys,
)

router = APIRouter(prefix="/api/v1/telemetry", tags=["telemetry"])

CanRead = Annotated[Principal, authorize("telemetry:read")]
KeysParam = Annotated[
    str | None, Query(description="comma-separated keys, e.g. `speed,flow`; all when absent")
]
StartTs = Annotated[
    int, Query(alias="startTs", ge=0, le=MAX_TS, description="from this ms (included)")
]
EndTs = Annotated[int, Query(alias="endTs", ge=0, le=MAX_TS, description="to this ms (excluded)")]
CSV_FLUSH_ROWS = 1000


@router.get("/{device_id}/keys", operation_id="telemetry_list_keys")
async def list_keys(device_id: str, session: ReadSessionDep, principal: CanRead) -> list[str]:
    """The keys the device has sent, in alphabetical order."""
    return await queries.device_keys(session, device_id)


@router.get("/{device_id}/latest", operation_id="telemetry_get_latest")
async def get_latest(
    device_id: str, session: ReadSessionDep, principal: CanRead, keys: KeysParam = None
) -> dict[str, TsValue]:
    """The latest value of each key: `{"speed": {"ts": ms, "value": 54.5}}`."""
    names = parse_keys(keys) or None
    found = await queries.latest_values(session, [device_id], names)
    return found[device_id]


@router.post("/latest", operation_id="telemetry_get_latest_of_devices")
async def get_latest_of_devices(
    data: LatestRequest, session: ReadSessionDep, principal: CanRead
) -> dict[str, dict[str, TsValue]]:
    """The latest values of many devices at once: `{device_id: {key: {"ts", "value"}}}`.

    Every device asked for is in the answer, with `{}` when it has no values (yet)."""
    device_ids = list(dict.fromkeys(data.device_ids))
    keys = list(dict.fromkeys(data.keys)) if data.keys is not None else None
    return await queries.latest_values(session, device_ids, keys)


@router.get("/{device_id}/timeseries", operation_id="telemetry_get_timeseries")
async def get_timeseries(
    device_id: str,
    session: ReadSessionDep,
    principal: CanRead,
    keys: Annotated[str, Query(description="comma-separated keys, e.g. `speed,flow`")],
    start_ts: StartTs,
    end_ts: EndTs,
    agg: Annotated[
        Aggregation, Query(description="NONE for raw points; else the function per bucket")
    ] = Aggregation.NONE,
    interval: Annotated[
        int | None, Query(description="bucket width in ms; required when agg is not NONE")
    ] = None,
    percentile: Annotated[
        float | None, Query(ge=0, le=100, description="for agg=PERCENTILE: 0..100, e.g. 95")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="raw points per key (agg=NONE only)")
    ] = DEFAULT_LIMIT,
    order_by: Annotated[
        Order | None,
        Query(alias="orderBy", description="by ts; DESC for raw points, ASC for buckets"),
    ] = None,
    interval_type: Annotated[
        Literal["MILLISECONDS"] | None,
        Query(alias="intervalType", description="only MILLISECONDS: no calendar buckets"),
    ] = None,
) -> dict[str, list[TsValue]]:
    """Points of `keys` in [startTs, endTs): raw, or one value per bucket of `interval` ms
    counted from startTs, stamped with the bucket's middle. Keys without data are left out."""
    query = TimeseriesQuery.build(
        keys, start_ts, end_ts, agg, interval, percentile, limit, order_by
    )
    if query.agg is Aggregation.NONE:
        return await queries.raw_points(session, device_id, query)
    return await queries.aggregated(session, device_id, query)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _csv_value(value: Value) -> str:
    # JSON's spelling for flags and structures, so a reader tells `true` from "true"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


async def _csv_lines(
    platform: Platform, device_id: str, keys: list[str], start_ts: int, end_ts: int
) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("ts", "iso_time", "key", "value"))
    # the request's session closes when the route returns, before the body is streamed,
    # so the export reads through its own
    async with platform.db.read_session() as session:
        names = keys or await queries.device_keys(session, device_id)
        rows = 0
        async for point in queries.export_points(session, device_id, names, start_ts, end_ts):
            writer.writerow((point.ts, _iso(point.ts), point.key, _csv_value(point.value)))
            rows += 1
            if rows % CSV_FLUSH_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


@router.get(
    "/{device_id}/export.csv",
    operation_id="telemetry_export_csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "ts,iso_time,key,value"}},
)
async def export_csv(
    device_id: str,
    platform: PlatformDep,
    principal: CanRead,
    start_ts: StartTs,
    end_ts: EndTs,
    keys: KeysParam = None,
) -> StreamingResponse:
    """Raw points of `keys` (all when absent) in [startTs, endTs) as CSV, ordered by ts then
    key; streamed, so a long range is never held in memory."""
    names = parse_keys(keys)
    check_range(start_ts, end_ts)
    filename = re.sub(r"[^A-Za-z0-9_-]", "", device_id) or "device"
    return StreamingResponse(
        _csv_lines(platform, device_id, names, start_ts, end_ts),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": (
                f'attachment; filename="telemetry-{filename}-{start_ts}-{end_ts}.csv"'
            )
        },
    )
