"""A point at a distance along a segment's geometry ([[lon, lat], ...], upstream end first).

The geometry's own length may differ from the segment's `length_m` (a survey length, a
simplified line), so the distance is taken as a share of `length_m` and laid on the line
by its local metric length (an equirectangular approximation: segments are short)."""

from __future__ import annotations

import itertools
import math

_EARTH_M = 6_371_008.8


def _metres(a: list[float], b: list[float]) -> float:
    mean_lat = math.radians((a[1] + b[1]) / 2)
    dx = math.radians(b[0] - a[0]) * math.cos(mean_lat)
    dy = math.radians(b[1] - a[1])
    return _EARTH_M * math.hypot(dx, dy)


def point_along(
    geometry: list[list[float]], offset_m: float, length_m: float
) -> tuple[float, float] | None:
    """(lon, lat) at `offset_m` of a segment `length_m` long; None without a geometry."""
    if not geometry:
        return None
    if len(geometry) == 1 or length_m <= 0:
        return geometry[0][0], geometry[0][1]
    legs = [_metres(a, b) for a, b in itertools.pairwise(geometry)]
    total = sum(legs)
    if total <= 0:
        return geometry[0][0], geometry[0][1]
    target = min(max(offset_m / length_m, 0.0), 1.0) * total
    for (a, b), leg in zip(itertools.pairwise(geometry), legs, strict=True):
        if target <= leg and leg > 0:
            share = target / leg
            return a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share
        target -= leg
    return geometry[-1][0], geometry[-1][1]
