"""Distances on the WGS 84 sphere: segment lengths, points along a polyline, and the
great-circle distance that ranks the nearest patrol units."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG)


def great_circle_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def polyline_length_m(points: Sequence[Sequence[float]]) -> float:
    return sum(great_circle_m(a[0], a[1], b[0], b[1]) for a, b in itertools.pairwise(points))


def point_along(points: Sequence[Sequence[float]], offset_m: float) -> tuple[float, float]:
    """The (lon, lat) `offset_m` metres from the first point, clamped to the line's end."""
    remaining = max(0.0, offset_m)
    for a, b in itertools.pairwise(points):
        piece = great_circle_m(a[0], a[1], b[0], b[1])
        if remaining <= piece and piece > 0:
            share = remaining / piece
            # linear between vertices: segments are short enough for the error to vanish
            return a[0] + (b[0] - a[0]) * share, a[1] + (b[1] - a[1]) * share
        remaining -= piece
    return float(points[-1][0]), float(points[-1][1])
