"""Folding a device's batch into its rollups, and rebuilding rollups from stored points.

Why analytics keeps its own copy of numeric points (`analytics_point`) rather than a set of
seen (device, key, ts): a re-sent point may carry a different value (telemetry keeps the
last one), and a min or max cannot be "un-added". So every bucket a batch changes is
recomputed from all the points stored in it: 1-minute buckets from raw points, 5-minute and
1-hour buckets from their 1-minute buckets. A re-sent point with the same value changes
nothing and costs one indexed read; a late or out-of-order point costs re-reading the
minute it lands in (at most 60 points at 1 Hz) and that hour's 1-minute buckets (at most
60 rows). In exchange a bucket is a function of its points alone, so the stream and
`roadwatch analytics rebuild` give identical bits, and percentiles and raw-resolution
series need no call to the telemetry service. The copy costs one narrow row per point
(about a third of telemetry's row: no string/JSON columns).

Only numbers are rolled up: integers and floats as they are, booleans as 1/0 (so the mean
of a boolean key is the share of time it was true). Strings and JSON values are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.analytics.aggregate import (
    COARSE,
    F64,
    I64,
    MINUTE_MS,
    RESOLUTIONS,
    TS_BITS,
    Buckets,
    combine,
    dedupe_last,
    minute_buckets,
)
from roadwatch.analytics.repository import PointRepository, RollupRepository

HOUR_MS = RESOLUTIONS["1h"]
# keys and ts share one int64 when matching points (aggregate.TS_BITS)
_TS_BITS = TS_BITS


@dataclass
class NumericBatch:
    """A batch's numeric points as columns, unique per (key, ts), sorted by (key, ts)."""

    keys: list[str]
    series: I64
    ts: I64
    values: F64

    def __len__(self) -> int:
        return int(self.ts.size)

    def key_names(self, series: I64) -> list[str]:
        return [self.keys[i] for i in series.tolist()]


def numeric_points(points: list[list[Any]]) -> NumericBatch:
    """The numeric points of an event's `[key, ts, value]` list (last of a repeat wins)."""
    numeric = [p for p in points if type(p[2]) in (int, float, bool)]
    names = [p[0] for p in numeric]
    keys = sorted(set(names))
    index = {k: i for i, k in enumerate(keys)}
    series = np.fromiter((index[n] for n in names), np.int64, len(numeric))
    ts = np.fromiter((p[1] for p in numeric), np.int64, len(numeric))
    values = np.fromiter((float(p[2]) for p in numeric), np.float64, len(numeric))
    series, ts, values = dedupe_last(series, ts, values)
    return NumericBatch(keys, series, ts, values)


def _code(series: I64, ts: I64) -> I64:
    return (series << _TS_BITS) | ts


@dataclass
class Folded:
    """What a batch changed: its new or changed points, which the rules evaluate."""

    fresh: NumericBatch


def new_or_changed(batch: NumericBatch, stored_code: I64, stored_values: F64) -> I64:
    """Indexes of the batch's points not stored yet or stored with another value."""
    order = np.argsort(stored_code)
    stored_code, stored_values = stored_code[order], stored_values[order]
    code = _code(batch.series, batch.ts)
    at = np.searchsorted(stored_code, code)
    found = at < stored_code.size
    found[found] = stored_code[at[found]] == code[found]
    same = np.zeros(code.size, dtype=bool)
    same[found] = stored_values[at[found]] == batch.values[found]
    return np.flatnonzero(~same)


def rollups_for_points(series: I64, ts: I64, values: F64) -> tuple[Buckets, dict[str, Buckets]]:
    """1-minute buckets of the points, and the coarser ones made from them: the whole
    computation for points that land in buckets of their own (used by the benchmark and by
    the rebuild; the stream adds the stored neighbours first)."""
    minutes = minute_buckets(series, ts, values)
    return minutes, {name: combine(minutes, RESOLUTIONS[name]) for name in COARSE}


class RollupService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.points = PointRepository(session)
        self.rollups = RollupRepository(session)

    async def fold(self, device_id: str, points: list[list[Any]]) -> Folded:
        batch = numeric_points(points)
        if not len(batch):
            return Folded(batch)
        await self.points.lock_device(device_id)
        lo, hi = int(batch.ts.min()), int(batch.ts.max()) + 1
        stored = await self._stored(device_id, batch.keys, lo, hi)
        changed = new_or_changed(batch, *stored)
        fresh = NumericBatch(
            batch.keys, batch.series[changed], batch.ts[changed], batch.values[changed]
        )
        if not len(fresh):
            return Folded(fresh)
        await self.points.upsert_points(
            device_id, fresh.key_names(fresh.series), fresh.ts, fresh.values
        )
        await self._recompute(device_id, fresh)
        return Folded(fresh)

    async def _stored(
        self, device_id: str, keys: list[str], start: int, end: int, only: list[str] | None = None
    ) -> tuple[I64, F64]:
        """Codes and values of stored points of `only` (default: all of `keys`), their series
        numbered by position in `keys`."""
        names, ts, values = await self.points.points(device_id, only or keys, start, end)
        index = {k: i for i, k in enumerate(keys)}
        series = np.fromiter((index[n] for n in names), np.int64, len(names))
        return _code(series, ts), values

    async def _recompute(self, device_id: str, fresh: NumericBatch) -> None:
        keys = fresh.keys
        minutes = np.unique(_code(fresh.series, fresh.ts - fresh.ts % MINUTE_MS))
        lo = int(fresh.ts.min()) - int(fresh.ts.min()) % MINUTE_MS
        hi = int(fresh.ts.max()) - int(fresh.ts.max()) % MINUTE_MS + MINUTE_MS
        wanted = sorted({keys[s] for s in fresh.series.tolist()})
        code, values = await self._stored(device_id, keys, lo, hi, only=wanted)
        mask = np.isin(code - _minute_offset(code), minutes)
        series, ts = code[mask] >> _TS_BITS, code[mask] & ((1 << _TS_BITS) - 1)
        fine = minute_buckets(series, ts, values[mask])
        await self.rollups.upsert(
            RESOLUTIONS["1m"] // 1000, [device_id] * len(fine), _names(keys, fine), fine
        )
        # the hours those minutes are in, re-read whole (1-minute buckets) for 5m and 1h
        hours = np.unique(_code(fine.series, fine.bucket - fine.bucket % HOUR_MS))
        lo_h = int(fine.bucket.min()) - int(fine.bucket.min()) % HOUR_MS
        hi_h = int(fine.bucket.max()) - int(fine.bucket.max()) % HOUR_MS + HOUR_MS
        rows = await self.rollups.fetch([device_id], wanted, 60, lo_h, hi_h)
        hour_fine = buckets_of_rows(rows, {k: i for i, k in enumerate(keys)})
        in_hours = np.isin(
            _code(hour_fine.series, hour_fine.bucket - hour_fine.bucket % HOUR_MS), hours
        )
        hour_fine = hour_fine.take(in_hours)
        for name in COARSE:
            width = RESOLUTIONS[name]
            coarse = combine(hour_fine, width)
            touched = np.isin(
                _code(coarse.series, coarse.bucket),
                np.unique(_code(fine.series, fine.bucket - fine.bucket % width)),
            )
            coarse = coarse.take(touched)
            await self.rollups.upsert(
                width // 1000, [device_id] * len(coarse), _names(keys, coarse), coarse
            )

    async def rebuild_device(self, device_id: str, start: int, end: int) -> int:
        """Recompute every bucket of the device in [start, end) (whole hours) from its
        stored points; returns how many points were read."""
        await self.points.lock_device(device_id)
        keys = await self.points.device_keys(device_id, start, end)
        await self.rollups.delete_range(device_id, start, end)
        if not keys:
            return 0
        names, ts, values = await self.points.points(device_id, keys, start, end)
        index = {k: i for i, k in enumerate(keys)}
        series = np.fromiter((index[n] for n in names), np.int64, len(names))
        fine, coarse = rollups_for_points(series, ts, values)
        await self.rollups.upsert(60, [device_id] * len(fine), _names(keys, fine), fine)
        for name, buckets in coarse.items():
            await self.rollups.upsert(
                RESOLUTIONS[name] // 1000,
                [device_id] * len(buckets),
                _names(keys, buckets),
                buckets,
            )
        return len(names)


def _minute_offset(code: I64) -> I64:
    # ts within its minute, taken off a point's code to give its minute's code
    return (code & ((1 << _TS_BITS) - 1)) % MINUTE_MS


def _names(keys: list[str], b: Buckets) -> list[str]:
    return [keys[i] for i in b.series.tolist()]


def buckets_of_rows(rows: list[Any], index: dict[str, int]) -> Buckets:
    """Stored rollup rows (one device) as Buckets; `index` maps their keys to series."""
    n = len(rows)
    return Buckets(
        series=np.fromiter((index[r.key] for r in rows), np.int64, n),
        bucket=np.fromiter((r.bucket_ts for r in rows), np.int64, n),
        count=np.fromiter((r.count for r in rows), np.int64, n),
        sum=np.fromiter((r.sum for r in rows), np.float64, n),
        min=np.fromiter((r.min for r in rows), np.float64, n),
        max=np.fromiter((r.max for r in rows), np.float64, n),
        m2=np.fromiter((r.m2 for r in rows), np.float64, n),
        first_ts=np.fromiter((r.first_ts for r in rows), np.int64, n),
        first=np.fromiter((r.first for r in rows), np.float64, n),
        last_ts=np.fromiter((r.last_ts for r in rows), np.int64, n),
        last=np.fromiter((r.last for r in rows), np.float64, n),
    )
