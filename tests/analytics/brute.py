"""Rollups the slow, obvious way: straight from a dict of points, one bucket at a time."""

from __future__ import annotations

import math
import statistics
from typing import Any

WIDTHS = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000}


def brute_rollups(points: dict[tuple[str, int], float], width_ms: int) -> dict[Any, dict[str, Any]]:
    """{(key, bucket_ts): {count, sum, min, max, mean, variance, first.., last..}}."""
    groups: dict[tuple[str, int], list[tuple[int, float]]] = {}
    for (key, ts), value in points.items():
        groups.setdefault((key, ts - ts % width_ms), []).append((ts, value))
    out = {}
    for group, members in groups.items():
        members.sort()
        values = [v for _, v in members]
        out[group] = {
            "count": len(values),
            "sum": math.fsum(values),
            "min": min(values),
            "max": max(values),
            "mean": math.fsum(values) / len(values),
            "variance": statistics.pvariance(values),
            "first_ts": members[0][0],
            "first": members[0][1],
            "last_ts": members[-1][0],
            "last": members[-1][1],
        }
    return out


EXACT = ("count", "min", "max", "first_ts", "first", "last_ts", "last")
CLOSE = ("sum", "mean", "variance")


def assert_bucket_equal(got: dict[str, Any], want: dict[str, Any], where: object) -> None:
    for name in EXACT:
        assert got[name] == want[name], (where, name, got[name], want[name])
    for name in CLOSE:
        assert math.isclose(got[name], want[name], rel_tol=1e-9, abs_tol=1e-7), (
            where,
            name,
            got[name],
            want[name],
        )
