"""Flow, density, travel time and travel-time index from one interval's readings."""

from __future__ import annotations

# A standing queue has speed 0 and an infinite travel time; the map and the indices need a
# finite one, so a standstill counts as crawling at this speed.
CRAWL_KMH = 5.0


def flow_vph(count: float, covered_s: float) -> float:
    """Vehicles counted over `covered_s` seconds, as vehicles per hour."""
    return count * 3600.0 / covered_s


def density_vpkm(
    flow: float | None, speed_kmh: float | None, occupancy_pct: float | None, g_m: float
) -> float | None:
    """Vehicles per km: flow / speed while vehicles move; from occupancy (occ / g) when they
    stand (speed 0), where flow / speed says nothing.

    `flow` and the result are per lane or for all lanes alike; occupancy gives per lane, so
    callers pass per-lane flow when they may fall back to it.
    """
    if flow is not None and speed_kmh is not None and speed_kmh > 0:
        return flow / speed_kmh
    if occupancy_pct is not None and g_m > 0:
        return occupancy_pct / 100.0 / g_m * 1000.0
    return None


def travel_time_s(length_m: float, speed_kmh: float | None) -> float | None:
    if speed_kmh is None:
        return None
    return length_m / 1000.0 / max(speed_kmh, CRAWL_KMH) * 3600.0


def travel_time_index(
    length_m: float, speed_kmh: float | None, free_flow_kmh: float
) -> float | None:
    """Travel time over free-flow travel time (1.0 = free flow, 2.0 = twice as long)."""
    actual = travel_time_s(length_m, speed_kmh)
    if actual is None or free_flow_kmh <= 0:
        return None
    return actual / (length_m / 1000.0 / free_flow_kmh * 3600.0)
