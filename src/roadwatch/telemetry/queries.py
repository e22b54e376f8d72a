"""Reading the time series: keys, latest values, raw points, buckets and CSV export rows.

Aggregates are computed by the database on both backends, grouped by key and bucket, where
bucket = (ts - startTs) / interval in integer division. SQLite has no standard deviation or
percentile function, so there (only) STDDEV and PERCENTILE are computed here from the
bucket's numbers, read in (key, ts) order so only one bucket is ever held in memory.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Select, bindparam, cast, func, or_, select
from sqlalchemy import literal_column as sql_literal
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.telemetry.models import LatestValue, TsPoint
from roadwatch.telemetry.points import Point, Value
from roadwatch.telemetry.schemas import Aggregation, Order, TimeseriesQuery, TsValue
from roadwatch.telemetry.store import value_of

VALUES = (TsPoint.bool_v, TsPoint.long_v, TsPoint.dbl_v, TsPoint.str_v, TsPoint.json_v)
LATEST_VALUES = (
    LatestValue.bool_v,
    LatestValue.long_v,
    LatestValue.dbl_v,
    LatestValue.str_v,
    LatestValue.json_v,
)

# aggregations other than COUNT look at numbers only (integers and decimals)
_IS_NUMBER = or_(TsPoint.long_v.is_not(None), TsPoint.dbl_v.is_not(None))
_NUMBER = func.coalesce(TsPoint.dbl_v, cast(TsPoint.long_v, Float))
# SQLite's sum() of integers fails on a 64-bit overflow; summing the high and the low 32
# bits apart cannot overflow, and Python joins the halves exactly
_LONG_HIGH = func.sum(TsPoint.long_v.op(">>")(sql_literal("32")))
_LONG_LOW = func.sum(TsPoint.long_v.op("&")(sql_literal("4294967295")))
_BY_DATABASE = (Aggregation.STDDEV, Aggregation.PERCENTILE)
EXPORT_ROWS_IN_MEMORY = 10_000


async def device_keys(session: AsyncSession, device_id: str) -> list[str]:
    rows = await session.scalars(
        select(LatestValue.key).where(LatestValue.device_id == device_id).order_by(LatestValue.key)
    )
    return list(rows)


async def latest_values(
    session: AsyncSession, device_ids: Sequence[str], keys: Sequence[str] | None
) -> dict[str, dict[str, TsValue]]:
    """Every device asked for, each with its latest value per key ({} when it has none)."""
    statement = select(
        LatestValue.device_id, LatestValue.key, LatestValue.ts, *LATEST_VALUES
    ).where(LatestValue.device_id.in_(device_ids))
    if keys is not None:
        statement = statement.where(LatestValue.key.in_(keys))
    found: dict[str, dict[str, TsValue]] = {device_id: {} for device_id in device_ids}
    for row in await session.execute(statement.order_by(LatestValue.device_id, LatestValue.key)):
        found[row.device_id][row.key] = {"ts": row.ts, "value": value_of(row)}
    return found


def _in_range(device_id: str, start_ts: int, end_ts: int) -> list[ColumnElement[bool]]:
    return [TsPoint.device_id == device_id, TsPoint.ts >= start_ts, TsPoint.ts < end_ts]


async def raw_points(
    session: AsyncSession, device_id: str, query: TimeseriesQuery
) -> dict[str, list[TsValue]]:
    """Up to `limit` points per key, as ThingsBoard counts its limit; keys without any are left
    out. One query per key, each an index range scan of (device, key, ts)."""
    order = TsPoint.ts.desc() if query.order is Order.DESC else TsPoint.ts.asc()
    found: dict[str, list[TsValue]] = {}
    for key in query.keys:
        rows = await session.execute(
            select(TsPoint.ts, *VALUES)
            .where(TsPoint.key == key, *_in_range(device_id, query.start_ts, query.end_ts))
            .order_by(order)
            .limit(query.limit)
        )
        points: list[TsValue] = [{"ts": row.ts, "value": value_of(row)} for row in rows]
        if points:
            found[key] = points
    return found


def _aggregates(agg: Aggregation, percentile: float | None) -> list[Any]:
    """The SQL aggregates a bucket's value is made of (see `_bucket_value`)."""
    if agg is Aggregation.COUNT:
        return [func.count().label("n")]
    if agg in (Aggregation.SUM, Aggregation.AVG):
        return [
            _LONG_HIGH.label("long_high"),
            _LONG_LOW.label("long_low"),
            func.count(TsPoint.long_v).label("n_long"),
            func.sum(TsPoint.dbl_v).label("dbl_sum"),
            func.count(TsPoint.dbl_v).label("n_dbl"),
        ]
    if agg in (Aggregation.MIN, Aggregation.MAX):
        extreme = func.min if agg is Aggregation.MIN else func.max
        return [extreme(TsPoint.long_v).label("long_v"), extreme(TsPoint.dbl_v).label("dbl_v")]
    if agg is Aggregation.STDDEV:
        return [func.stddev_samp(_NUMBER).label("value")]
    assert percentile is not None
    return [func.percentile_cont(percentile / 100).within_group(_NUMBER).label("value")]


def _bucket_value(agg: Aggregation, row: Any) -> Value | None:
    if agg is Aggregation.COUNT:
        return int(row.n)
    if agg in (Aggregation.SUM, Aggregation.AVG):
        # PostgreSQL sums bigints as numeric (Decimal here): int() keeps them exact
        longs = int(row.long_high or 0) * 2**32 + int(row.long_low or 0)
        total: int | float = longs if row.n_dbl == 0 else longs + float(row.dbl_sum)
        if agg is Aggregation.SUM:
            # integers only sum to an integer, as in ThingsBoard
            return total
        return total / int(row.n_long + row.n_dbl)
    if agg in (Aggregation.MIN, Aggregation.MAX):
        numbers = [v for v in (row.long_v, row.dbl_v) if v is not None]
        chosen: int | float = min(numbers) if agg is Aggregation.MIN else max(numbers)
        return chosen
    return None if row.value is None else float(row.value)


async def aggregated(
    session: AsyncSession, device_id: str, query: TimeseriesQuery
) -> dict[str, list[TsValue]]:
    """One value per key and non-empty bucket, each stamped with its bucket's middle."""
    assert session.bind is not None
    on_sqlite = session.bind.dialect.name == "sqlite"
    if on_sqlite and query.agg in _BY_DATABASE:
        found = await _aggregated_here(session, device_id, query)
    else:
        found = await _aggregated_in_sql(session, device_id, query)
    if query.order is Order.DESC:
        for values in found.values():
            values.reverse()
    return found


def _bucketed(device_id: str, query: TimeseriesQuery, *columns: Any) -> Select[Any]:
    start = bindparam("start", query.start_ts, type_=BigInteger)
    interval = bindparam("interval", query.interval, type_=BigInteger)
    bucket = ((TsPoint.ts - start) // interval).label("bucket")
    statement = select(TsPoint.key, bucket, *columns).where(
        TsPoint.key.in_(query.keys), *_in_range(device_id, query.start_ts, query.end_ts)
    )
    if query.agg is not Aggregation.COUNT:
        statement = statement.where(_IS_NUMBER)
    return statement


async def _aggregated_in_sql(
    session: AsyncSession, device_id: str, query: TimeseriesQuery
) -> dict[str, list[TsValue]]:
    statement = _bucketed(device_id, query, *_aggregates(query.agg, query.percentile))
    bucket = statement.selected_columns.bucket
    rows = await session.execute(
        statement.group_by(TsPoint.key, bucket).order_by(TsPoint.key, bucket)
    )
    found: dict[str, list[TsValue]] = {}
    for row in rows:
        found.setdefault(row.key, []).append(
            {"ts": query.bucket_ts(row.bucket), "value": _bucket_value(query.agg, row)}
        )
    return found


def sample_stddev(numbers: Sequence[float]) -> float | None:
    """As PostgreSQL's stddev_samp: None for fewer than two numbers."""
    if len(numbers) < 2:
        return None
    mean = math.fsum(numbers) / len(numbers)
    return math.sqrt(math.fsum((x - mean) ** 2 for x in numbers) / (len(numbers) - 1))


def percentile_cont(numbers: Sequence[float], fraction: float) -> float:
    """As PostgreSQL's percentile_cont: linear between the two nearest ranks."""
    ordered = sorted(numbers)
    rank = fraction * (len(ordered) - 1)
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def _aggregated_here(
    session: AsyncSession, device_id: str, query: TimeseriesQuery
) -> dict[str, list[TsValue]]:
    def value(numbers: list[float]) -> float | None:
        if query.agg is Aggregation.STDDEV:
            return sample_stddev(numbers)
        assert query.percentile is not None
        return percentile_cont(numbers, query.percentile / 100)

    statement = _bucketed(device_id, query, _NUMBER.label("number"))
    rows = await session.stream(statement.order_by(TsPoint.key, TsPoint.ts))
    found: dict[str, list[TsValue]] = {}
    current: tuple[str, int] | None = None
    numbers: list[float] = []
    async for row in rows:
        if (row.key, row.bucket) != current:
            if current is not None:
                found.setdefault(current[0], []).append(
                    {"ts": query.bucket_ts(current[1]), "value": value(numbers)}
                )
            current, numbers = (row.key, row.bucket), []
        numbers.append(float(row.number))
    if current is not None:
        found.setdefault(current[0], []).append(
            {"ts": query.bucket_ts(current[1]), "value": value(numbers)}
        )
    return found


async def _key_points(
    session: AsyncSession, device_id: str, key: str, start_ts: int, end_ts: int, chunk: int
) -> AsyncIterator[Point]:
    """One key's points in ts order, read `chunk` at a time after the last ts seen."""
    lower = start_ts
    while True:
        rows = (
            await session.execute(
                select(TsPoint.ts, *VALUES)
                .where(TsPoint.key == key, *_in_range(device_id, lower, end_ts))
                .order_by(TsPoint.ts)
                .limit(chunk)
            )
        ).all()
        for row in rows:
            yield Point(key, row.ts, value_of(row))
        if len(rows) < chunk:
            return
        # ts are whole milliseconds, unique per key: the next page starts just after
        lower = rows[-1].ts + 1


async def export_points(
    session: AsyncSession, device_id: str, keys: Sequence[str], start_ts: int, end_ts: int
) -> AsyncIterator[Point]:
    """The points of `keys` in [start_ts, end_ts), ordered by (ts, key).

    Each key is read along its own index order and the keys merged here: ordering the whole
    range by ts in SQL would sort it again for every page."""
    chunk = max(100, EXPORT_ROWS_IN_MEMORY // max(1, len(keys)))
    streams = [_key_points(session, device_id, k, start_ts, end_ts, chunk) for k in keys]
    heads: list[tuple[int, str, int, Point]] = []
    for index, stream in enumerate(streams):
        first = await anext(stream, None)
        if first is not None:
            heads.append((first.ts, first.key, index, first))
    heapq.heapify(heads)
    while heads:
        _, _, index, point = heads[0]
        yield point
        following = await anext(streams[index], None)
        if following is None:
            heapq.heappop(heads)
        else:
            heapq.heapreplace(heads, (following.ts, following.key, index, following))
