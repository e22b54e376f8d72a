"""Writing a batch of points durably: one transaction, one statement per table, one event.

On PostgreSQL the points go in with COPY (binary, the fastest way in), under a savepoint;
only if that meets points already stored (a device retrying after a lost acknowledgement)
is the batch upserted instead, every column sent as one array and unnested server-side.
Either way re-sent points overwrite themselves. SQLite takes an executemany upsert.
The hot path talks to asyncpg directly: through SQLAlchemy the same statements cost twice
as much (measured with bench.ingest).
"""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.platform.events.outbox import publish_many
from roadwatch.platform.runtime import Platform
from roadwatch.telemetry import events
from roadwatch.telemetry.models import LatestValue, TsPoint
from roadwatch.telemetry.points import Point, Value

COLUMNS = ("bool_v", "long_v", "dbl_v", "str_v", "json_v")

ALL_COLUMNS = ("device_id", "key", "ts", *COLUMNS)
_UNNEST = """
    SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::bigint[], $4::boolean[],
                         $5::bigint[], $6::float8[], $7::text[], $8::text[])
"""
_PG_UPSERT_POINTS = f"""
    INSERT INTO telemetry_ts (device_id, key, ts, bool_v, long_v, dbl_v, str_v, json_v)
    {_UNNEST}
    ON CONFLICT (device_id, key, ts) DO UPDATE SET
        bool_v = EXCLUDED.bool_v, long_v = EXCLUDED.long_v, dbl_v = EXCLUDED.dbl_v,
        str_v = EXCLUDED.str_v, json_v = EXCLUDED.json_v
"""
_PG_LATEST = f"""
    INSERT INTO telemetry_latest AS latest
        (device_id, key, ts, bool_v, long_v, dbl_v, str_v, json_v)
    {_UNNEST}
    ON CONFLICT (device_id, key) DO UPDATE SET
        ts = EXCLUDED.ts, bool_v = EXCLUDED.bool_v, long_v = EXCLUDED.long_v,
        dbl_v = EXCLUDED.dbl_v, str_v = EXCLUDED.str_v, json_v = EXCLUDED.json_v
    WHERE latest.ts <= EXCLUDED.ts
"""


def columns_of(value: Value) -> tuple[Any, Any, Any, Any, Any]:
    """(bool_v, long_v, dbl_v, str_v, json_v) with the one that fits the value set."""
    if isinstance(value, bool):
        return value, None, None, None, None
    if isinstance(value, int):
        return None, value, None, None, None
    if isinstance(value, float):
        return None, None, value, None, None
    if isinstance(value, str):
        return None, None, None, value, None
    return None, None, None, None, orjson.dumps(value).decode()


def value_of(row: Any) -> Value:
    """The value of a row holding the five value columns."""
    if row.bool_v is not None:
        return bool(row.bool_v)
    if row.long_v is not None:
        return int(row.long_v)
    if row.dbl_v is not None:
        return float(row.dbl_v)
    if row.str_v is not None:
        return str(row.str_v)
    decoded: Value = orjson.loads(row.json_v)
    return decoded


def _unique(points: list[Point]) -> list[Point]:
    # a batch may repeat a (key, ts): the last one wins, as if sent one after the other
    return list({(p.key, p.ts): p for p in points}.values())


def _latest(points: list[Point]) -> list[Point]:
    newest: dict[str, Point] = {}
    for point in points:
        seen = newest.get(point.key)
        if seen is None or point.ts >= seen.ts:
            newest[point.key] = point
    return list(newest.values())


Batches = dict[str, list[Point]]


def _as_records(batches: Batches) -> list[tuple[Any, ...]]:
    return [
        (device_id, p.key, p.ts, *columns_of(p.value))
        for device_id, points in batches.items()
        for p in points
    ]


def _as_arrays(records: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*records, strict=True)]


def _as_rows(batches: Batches) -> list[dict[str, Any]]:
    return [
        {
            "device_id": device_id,
            "key": p.key,
            "ts": p.ts,
            **dict(zip(COLUMNS, columns_of(p.value), strict=True)),
        }
        for device_id, points in batches.items()
        for p in points
    ]


def _newest(batches: Batches) -> Batches:
    return {device_id: _latest(points) for device_id, points in batches.items()}


async def _write_sqlite(session: AsyncSession, batches: Batches) -> None:
    statement = sqlite_insert(TsPoint)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["device_id", "key", "ts"],
            set_={c: statement.excluded[c] for c in COLUMNS},
        ),
        _as_rows(batches),
    )
    latest = sqlite_insert(LatestValue)
    await session.execute(
        latest.on_conflict_do_update(
            index_elements=["device_id", "key"],
            set_={c: latest.excluded[c] for c in ("ts", *COLUMNS)},
            where=LatestValue.ts <= latest.excluded.ts,
        ),
        _as_rows(_newest(batches)),
    )


async def _write_postgres(session: AsyncSession, batches: Batches) -> None:
    connection = await session.connection()
    # the asyncpg connection under SQLAlchemy's, inside the same transaction
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    records = _as_records(batches)
    try:
        async with raw.transaction():  # a savepoint: a failed COPY leaves the rest intact
            await raw.copy_records_to_table("telemetry_ts", records=records, columns=ALL_COLUMNS)
    except asyncpg.UniqueViolationError:
        await raw.execute(_PG_UPSERT_POINTS, *_as_arrays(records))
    await raw.execute(_PG_LATEST, *_as_arrays(_as_records(_newest(batches))))


async def store_batches(platform: Platform, batches: Batches, source: str) -> None:
    """Store several devices' points in one transaction, one event per device; returns
    only once they are committed (durable)."""
    batches = {device_id: _unique(points) for device_id, points in batches.items() if points}
    if not batches:
        return
    async with platform.db.session() as session:
        if platform.db.dialect == "postgresql":
            await _write_postgres(session, batches)
        else:
            await _write_sqlite(session, batches)
        # one statement for the events: a commit of a thousand devices' messages has a
        # thousand, and as ORM objects they cost more than the points
        await publish_many(
            session, [events.batch_ingested(d, points, source) for d, points in batches.items()]
        )


async def store_points(
    platform: Platform, device_id: str, points: list[Point], source: str
) -> None:
    """Store one device's points; returns only once they are committed (durable)."""
    await store_batches(platform, {device_id: points}, source)
