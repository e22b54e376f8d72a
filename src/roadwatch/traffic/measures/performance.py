"""Performance measures as Caltrans PeMS defines them, in metric units.

For one segment over one interval of `hours` (flow F veh/h over all lanes, speed V km/h,
length L km, threshold speed Vt km/h):

- VMT (here vehicle-kilometres):  F * hours * L
- VHT (vehicle-hours):            VMT / V
- delay (vehicle-hours):          F * hours * (L/V - L/Vt) when V < Vt, else 0 (never negative)
- lost productivity (lane-km-hours): when V < Vt, the share of capacity not served,
  (1 - F_pl / C_pl) * lanes * L * hours (0 when flow reaches capacity); C_pl is the segment's
  capacity per lane, or 2076 veh/h/lane, the floor PeMS uses, when the network does not say.

All four add up over time and space, so a road's or the city's hour or day is a plain sum.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

PEMS_CAPACITY_VPHPL = 2076.0
# PeMS's own default threshold; configurable (ROADWATCH_TRAFFIC__DELAY_THRESHOLD_KMH)
DEFAULT_THRESHOLD_KMH = 60.0


@dataclass(frozen=True, slots=True)
class Performance:
    vmt_veh_km: float = 0.0
    vht_veh_h: float = 0.0
    delay_veh_h: float = 0.0
    lost_productivity_lane_km_h: float = 0.0

    def __add__(self, other: Performance) -> Performance:
        return Performance(
            self.vmt_veh_km + other.vmt_veh_km,
            self.vht_veh_h + other.vht_veh_h,
            self.delay_veh_h + other.delay_veh_h,
            self.lost_productivity_lane_km_h + other.lost_productivity_lane_km_h,
        )


def interval_performance(
    *,
    flow_vph: float,
    speed_kmh: float,
    length_m: float,
    lanes: int,
    hours: float,
    threshold_kmh: float = DEFAULT_THRESHOLD_KMH,
    capacity_vphpl: float | None = None,
    crawl_kmh: float = 5.0,
) -> Performance:
    """One segment's measures over one interval. A standstill counts as crawling (`crawl_kmh`)
    so that vehicles queued there still add hours, not infinities."""
    length_km = length_m / 1000.0
    speed = max(speed_kmh, crawl_kmh)
    vmt = flow_vph * hours * length_km
    vht = vmt / speed
    delay = 0.0
    lost = 0.0
    if speed < threshold_kmh:
        delay = max(0.0, flow_vph * hours * (length_km / speed - length_km / threshold_kmh))
        capacity = capacity_vphpl or PEMS_CAPACITY_VPHPL
        flow_pl = flow_vph / max(lanes, 1)
        if flow_pl < capacity:
            lost = (1.0 - flow_pl / capacity) * lanes * length_km * hours
    return Performance(vmt, vht, delay, lost)


def total(rows: Iterable[tuple[K, Performance]]) -> dict[K, Performance]:
    """Sum performance rows by key (a segment, road or the city, with an hour or day)."""
    sums: dict[K, Performance] = {}
    for key, perf in rows:
        sums[key] = sums.get(key, Performance()) + perf
    return sums
