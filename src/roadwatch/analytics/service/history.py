"""Historical analytics over stored rollups (or raw points when no rollup fits): aggregated
series, percentiles, top devices by a statistic, two periods compared, fleet summaries.

A series reads the coarsest rollup that tiles its interval and range edges, so 30 days at
1-hour resolution reads 720 rows, never raw points; raw points are read only when the
interval or the range edges are not whole minutes (or for percentiles, which need them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from roadwatch.analytics.aggregate import RESOLUTIONS, Buckets, combine, minute_buckets
from roadwatch.analytics.models import KnownDevice, Rollup
from roadwatch.analytics.repository import PointRepository, RollupRepository
from roadwatch.analytics.service.rollups import buckets_of_rows
from roadwatch.platform.errors import InvalidInput

AGGREGATIONS = ("AVG", "MIN", "MAX", "SUM", "COUNT", "STDDEV")
MAX_SERIES_POINTS = 10_000
MAX_RAW_POINTS = 2_000_000
# coarsest first: the first that tiles the request is read
_WIDTHS = sorted(RESOLUTIONS.items(), key=lambda item: -item[1])


def source_for(start_ts: int, end_ts: int, interval: int) -> tuple[str, int]:
    """('rollup', width) for the coarsest rollup tiling interval and both edges; else
    ('raw', 0)."""
    for _name, width in _WIDTHS:
        if interval % width == 0 and start_ts % width == 0 and end_ts % width == 0:
            return "rollup", width
    return "raw", 0


def values_of(b: Buckets, agg: str) -> np.ndarray:
    if agg == "AVG":
        return b.mean
    if agg == "MIN":
        return b.min
    if agg == "MAX":
        return b.max
    if agg == "SUM":
        return b.sum
    if agg == "COUNT":
        return b.count.astype(np.float64)
    return np.sqrt(np.maximum(b.variance, 0.0))


def stats_of(count: int, total: float, m2: float, low: float, high: float) -> dict[str, Any]:
    if count == 0:
        return {"count": 0, "mean": None, "min": None, "max": None, "stddev": None, "sum": 0.0}
    return {
        "count": count,
        "sum": total,
        "mean": total / count,
        "min": low,
        "max": high,
        "stddev": math.sqrt(max(m2 / count, 0.0)),
    }


@dataclass
class Series:
    source: str
    interval: int
    points: list[dict[str, Any]]


class HistoryService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.rollups = RollupRepository(session)
        self.points = PointRepository(session)

    async def data_version(self, device_ids: list[str] | None = None) -> int:
        """Changes whenever a batch changes the rollups of these devices (all if None)."""
        statement = select(func.coalesce(func.sum(KnownDevice.data_version), 0))
        if device_ids is not None:
            statement = statement.where(KnownDevice.id.in_(device_ids))
        return int(await self.session.scalar(statement) or 0)

    async def series(
        self, device_id: str, key: str, start_ts: int, end_ts: int, interval: int, agg: str
    ) -> Series:
        if (end_ts - start_ts) // interval > MAX_SERIES_POINTS:
            raise InvalidInput(
                f"interval: at most {MAX_SERIES_POINTS} buckets per request; "
                "choose a longer interval or a shorter range",
                field="interval",
            )
        source, width = source_for(start_ts, end_ts, interval)
        if source == "rollup":
            rows = await self.rollups.rows([device_id], [key], width // 1000, start_ts, end_ts)
            fine = buckets_of_rows(list(rows), {key: 0})
            buckets = fine if interval == width else combine(fine, interval, start_ts)
            label = f"rollup:{next(n for n, w in RESOLUTIONS.items() if w == width)}"
        else:
            _names, ts, values = await self._raw(device_id, key, start_ts, end_ts)
            buckets = minute_buckets(np.zeros(ts.size, np.int64), ts, values, interval, start_ts)
            label = "raw"
        # buckets start at start_ts + k * interval, as ThingsBoard's do
        out = values_of(buckets, agg)
        return Series(
            label,
            interval,
            [
                {"ts": int(t), "value": float(v)}
                for t, v in zip(buckets.bucket.tolist(), out.tolist(), strict=True)
            ],
        )

    async def _raw(
        self, device_id: str, key: str, start_ts: int, end_ts: int
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        names, ts, values = await self.points.points(device_id, [key], start_ts, end_ts)
        if ts.size > MAX_RAW_POINTS:
            raise InvalidInput(
                f"startTs: the range holds over {MAX_RAW_POINTS} points; shorten it",
                field="startTs",
            )
        return names, ts, values

    async def percentiles(
        self, device_id: str, key: str, start_ts: int, end_ts: int, ranks: list[float]
    ) -> dict[str, Any]:
        _names, _ts, values = await self._raw(device_id, key, start_ts, end_ts)
        if values.size == 0:
            return {"count": 0, "percentiles": {str(p): None for p in ranks}}
        found = np.percentile(values, ranks)
        return {
            "count": int(values.size),
            "percentiles": {f"{p:g}": float(v) for p, v in zip(ranks, found, strict=True)},
        }

    def _combined(self, width_s: int, start_ts: int, end_ts: int, key: str) -> Any:
        """SQL aggregates of rollups into (count, sum, m2, min, max) per group: M2 combined
        as sum(m2 + sum^2/count) - sum(sum)^2 / sum(count)."""
        n = func.sum(Rollup.count)
        total = func.sum(Rollup.sum)
        m2 = func.sum(Rollup.m2 + Rollup.sum * Rollup.sum / Rollup.count) - total * total / n
        return select(
            n.label("n"),
            total.label("total"),
            m2.label("m2"),
            func.min(Rollup.min).label("low"),
            func.max(Rollup.max).label("high"),
        ).where(
            Rollup.key == key,
            Rollup.resolution_s == width_s,
            Rollup.bucket_ts >= start_ts,
            Rollup.bucket_ts < end_ts,
        )

    def _width_for(self, start_ts: int, end_ts: int) -> int:
        source, width = source_for(start_ts, end_ts, RESOLUTIONS["1m"])
        if source != "rollup":
            raise InvalidInput(
                "startTs: the range must start and end on whole minutes", field="startTs"
            )
        return width // 1000

    async def top(
        self, key: str, start_ts: int, end_ts: int, stat: str, n: int, descending: bool
    ) -> list[dict[str, Any]]:
        statement = self._combined(self._width_for(start_ts, end_ts), start_ts, end_ts, key)
        statement = statement.add_columns(Rollup.device_id).group_by(Rollup.device_id)
        rows = (await self.session.execute(statement)).all()
        ranked = [
            {"device_id": r.device_id, **stats_of(int(r.n), r.total, r.m2, r.low, r.high)}
            for r in rows
        ]
        ranked.sort(key=lambda s: (s[stat], s["device_id"]), reverse=descending)
        return ranked[:n]

    async def period(self, device_id: str, key: str, start_ts: int, end_ts: int) -> dict[str, Any]:
        statement = self._combined(self._width_for(start_ts, end_ts), start_ts, end_ts, key)
        row = (await self.session.execute(statement.where(Rollup.device_id == device_id))).one()
        if not row.n:
            return stats_of(0, 0.0, 0.0, 0.0, 0.0)
        return stats_of(int(row.n), row.total, row.m2, row.low, row.high)

    async def fleet(self, key: str, start_ts: int, end_ts: int) -> list[dict[str, Any]]:
        group = func.coalesce(KnownDevice.profile_id, "type:" + KnownDevice.type)
        statement = (
            self._combined(self._width_for(start_ts, end_ts), start_ts, end_ts, key)
            .add_columns(
                group.label("grp"), func.count(func.distinct(Rollup.device_id)).label("devices")
            )
            .join(KnownDevice, KnownDevice.id == Rollup.device_id, isouter=True)
            .group_by(group)
            .order_by(group)
        )
        rows = (await self.session.execute(statement)).all()
        return [
            {
                "profile": r.grp or "unknown",
                "devices": int(r.devices),
                **stats_of(int(r.n), r.total, r.m2, r.low, r.high),
            }
            for r in rows
        ]
