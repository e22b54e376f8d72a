"""Detector readings out of a telemetry batch: the points of one station grouped by time.

Keys (docs/simulation.md): `count` (vehicles in the interval, all lanes), `occupancy`
(percent), `speed` (km/h; dual loops, only when vehicles passed), and per lane
`count_l<n>`, `occupancy_l<n>`, `speed_l<n>`. Values that are not numbers are ignored.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

KEYS = {"count": "count", "occupancy": "occupancy_pct", "speed": "speed_kmh"}
LANE_KEY = re.compile(r"^(count|occupancy|speed)_l(\d{1,2})$")


@dataclass(slots=True)
class Reading:
    end_ts: int
    count: float | None = None
    occupancy_pct: float | None = None
    speed_kmh: float | None = None
    lanes: dict[str, dict[str, float]] = field(default_factory=dict)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def readings_from_points(points: Iterable[Sequence[Any]]) -> list[Reading]:
    """The readings in `[key, ts, value]` points, oldest first; times without any detector
    key are not readings."""
    by_ts: dict[int, Reading] = {}
    for key, ts, value in points:
        number = _number(value)
        if number is None:
            continue
        if key in KEYS:
            reading = by_ts.setdefault(int(ts), Reading(int(ts)))
            setattr(reading, KEYS[key], number)
            continue
        match = LANE_KEY.match(key)
        if match:
            reading = by_ts.setdefault(int(ts), Reading(int(ts)))
            reading.lanes.setdefault(match.group(2), {})[KEYS[match.group(1)]] = number
    readings = sorted(by_ts.values(), key=lambda r: r.end_ts)
    for reading in readings:
        _fill_station_from_lanes(reading)
    return readings


def _fill_station_from_lanes(reading: Reading) -> None:
    """A device that sends only per-lane keys still gives a station reading: counts add up,
    occupancy is the lanes' mean, speed their count-weighted mean."""
    lanes = list(reading.lanes.values())
    if not lanes:
        return
    counts = [lane.get("count") for lane in lanes]
    if reading.count is None and all(c is not None for c in counts):
        reading.count = sum(c for c in counts if c is not None)
    occupancies = [lane["occupancy_pct"] for lane in lanes if "occupancy_pct" in lane]
    if reading.occupancy_pct is None and len(occupancies) == len(lanes):
        reading.occupancy_pct = sum(occupancies) / len(occupancies)
    if reading.speed_kmh is None:
        weighted = [
            (lane["speed_kmh"], lane.get("count", 0.0)) for lane in lanes if "speed_kmh" in lane
        ]
        total = sum(w for _, w in weighted)
        if weighted and total > 0:
            reading.speed_kmh = sum(s * w for s, w in weighted) / total


def device_interval_s(timestamps: Sequence[int], known_s: int | None, default_s: int) -> int:
    """The device's reporting interval: the smallest gap between its readings (a dropout only
    makes gaps longer), within 10 s .. 15 min; the known one or `default_s` until seen."""
    gaps = [(b - a) // 1000 for a, b in itertools.pairwise(timestamps) if b > a]
    candidates = [g for g in gaps if 10 <= g <= 900]
    if known_s is not None:
        candidates.append(known_s)
    return min(candidates) if candidates else default_s
