"""Rollup arithmetic over NumPy arrays: raw points into 1-minute buckets, and fine buckets
into coarser ones. Pure functions, no I/O; the streaming path and the rebuild share them.

A bucket holds count, sum, min, max, M2 (the sum of squared deviations from the bucket's
mean, from which variance = M2 / count) and the first and last point by time. A 1-minute
bucket is always computed from all of its raw points sorted by time, and a 5-minute or
1-hour bucket from all of its 1-minute buckets in time order (Chan's parallel formula for
M2). So a bucket is a function of the set of raw points in it, not of the order they came
in: a rebuild from raw points gives the same bits as the stream did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MINUTE_MS = 60_000
# resolution name -> bucket width in ms; 1m is computed from raw points, the others from 1m
RESOLUTIONS: dict[str, int] = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000}
COARSE = ("5m", "1h")

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass
class Buckets:
    """Column arrays of buckets, sorted by (series, bucket); `series` indexes the caller's
    list of (device, key) pairs."""

    series: I64
    bucket: I64
    count: I64
    sum: F64
    min: F64
    max: F64
    m2: F64
    first_ts: I64
    first: F64
    last_ts: I64
    last: F64

    def __len__(self) -> int:
        return int(self.series.size)

    @property
    def mean(self) -> F64:
        return self.sum / self.count

    @property
    def variance(self) -> F64:
        """Population variance (M2 / count); 0 for a single point."""
        return self.m2 / self.count

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> Buckets:
        return Buckets(*(getattr(self, name)[index] for name in _FIELDS))


_FIELDS = (
    "series",
    "bucket",
    "count",
    "sum",
    "min",
    "max",
    "m2",
    "first_ts",
    "first",
    "last_ts",
    "last",
)


def empty() -> Buckets:
    i = np.empty(0, np.int64)
    f = np.empty(0, np.float64)
    return Buckets(i, i, i, f, f, f, f, i, f, i, f)


def _group_starts(code: I64) -> npt.NDArray[np.intp]:
    """Indexes where a new group starts in a sorted array of group codes."""
    change = np.empty(code.size, dtype=bool)
    if code.size:
        change[0] = True
        np.not_equal(code[1:], code[:-1], out=change[1:])
    return np.flatnonzero(change)


# a series number and a time (ms, below 2^42: the year 2109) share one sortable int64
TS_BITS = 42


def _code(series: I64, ts: I64) -> I64:
    return (series << TS_BITS) | ts


def _sorted_by(code: I64) -> npt.NDArray[np.intp] | None:
    """A stable order sorting `code`, or None when it is sorted already."""
    if code.size < 2 or bool(np.all(code[1:] >= code[:-1])):
        return None
    return np.argsort(code, kind="stable")


def dedupe_last(series: I64, ts: I64, values: F64) -> tuple[I64, I64, F64]:
    """One value per (series, ts), the last given winning (as storage keeps a re-sent point),
    sorted by (series, ts)."""
    if series.size == 0:
        return series, ts, values
    code = _code(series, ts)
    order = _sorted_by(code)
    if order is not None:
        # stable: equal codes stay in the order given, so the last of a run is the latest
        code, series, ts, values = code[order], series[order], ts[order], values[order]
    keep = np.ones(code.size, dtype=bool)
    np.not_equal(code[1:], code[:-1], out=keep[:-1])
    if keep.all():
        return series, ts, values
    return series[keep], ts[keep], values[keep]


def minute_buckets(
    series: I64, ts: I64, values: F64, width_ms: int = MINUTE_MS, origin: int = 0
) -> Buckets:
    """Buckets of `width_ms` (starting at origin + k * width_ms) from raw points, which must
    be unique per (series, ts)."""
    if series.size == 0:
        return empty()
    order = _sorted_by(_code(series, ts))
    if order is not None:
        series, ts, values = series[order], ts[order], values[order]
    s, t, v = series, ts, values
    b = t - np.mod(t - origin, width_ms)
    starts = _group_starts(_code(s, b))
    if starts.size == s.size:
        # every point alone in its bucket (sparse series): the same numbers, fewer steps
        zeros = np.zeros(s.size)
        return Buckets(s, b, np.ones(s.size, np.int64), v, v, v, zeros, t, v, t, v)
    ends = np.append(starts[1:], s.size) - 1
    count = np.diff(np.append(starts, s.size)).astype(np.int64)
    total = np.add.reduceat(v, starts)
    mean = total / count
    deviation = v - np.repeat(mean, count)
    m2 = np.add.reduceat(deviation * deviation, starts)
    return Buckets(
        series=s[starts],
        bucket=b[starts],
        count=count,
        sum=total,
        min=np.minimum.reduceat(v, starts),
        max=np.maximum.reduceat(v, starts),
        m2=m2,
        first_ts=t[starts],
        first=v[starts],
        last_ts=t[ends],
        last=v[ends],
    )


def combine(fine: Buckets, width_ms: int, origin: int = 0) -> Buckets:
    """Coarser buckets of `width_ms` (starting at origin + k * width_ms) from finer ones,
    each fine bucket inside one coarse."""
    if len(fine) == 0:
        return empty()
    order = _sorted_by(_code(fine.series, fine.bucket))
    f = fine if order is None else fine.take(order)
    coarse = f.bucket - np.mod(f.bucket - origin, width_ms)
    starts = _group_starts(_code(f.series, coarse))
    if starts.size == len(f):
        # each fine bucket alone in its coarse one: it is the coarse bucket as it is
        return Buckets(
            f.series,
            coarse,
            f.count,
            f.sum,
            f.min,
            f.max,
            f.m2,
            f.first_ts,
            f.first,
            f.last_ts,
            f.last,
        )
    ends = np.append(starts[1:], len(f)) - 1
    sizes = np.diff(np.append(starts, len(f)))
    count = np.add.reduceat(f.count, starts)
    total = np.add.reduceat(f.sum, starts)
    mean = total / count
    # Chan et al.: M2 = sum of the parts' M2 + sum of n_i * (mean_i - mean)^2
    shift = f.sum / f.count - np.repeat(mean, sizes)
    m2 = np.add.reduceat(f.m2 + f.count * shift * shift, starts)
    return Buckets(
        series=f.series[starts],
        bucket=coarse[starts],
        count=count,
        sum=total,
        min=np.minimum.reduceat(f.min, starts),
        max=np.maximum.reduceat(f.max, starts),
        m2=m2,
        first_ts=f.first_ts[starts],
        first=f.first[starts],
        last_ts=f.last_ts[ends],
        last=f.last[ends],
    )
