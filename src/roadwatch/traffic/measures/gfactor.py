"""Speed from a single loop's count and occupancy: the effective-vehicle-length ("g-factor")
method of Caltrans PeMS (after van Zwet, Chen, Jia and Kwon).

A loop covered for a share `occ` of the time by vehicles passing at `flow_pl` per lane per
hour, each covering the loop over its own length plus the loop's (together `g`, the
effective vehicle length), travels at

    speed = flow_pl * g / occ        (occ as a fraction, g in metres -> metres per hour)

`g` is not a constant: it depends on the vehicle mix and the loop's tuning. PeMS learns it per
detector from intervals it knows to be free-flowing (low occupancy: speed = free-flow speed,
so g = free_flow * occ / flow_pl). We keep a running estimate per detector, exponentially
smoothed, starting from DEFAULT_G_M. A dual loop measures speed; its reading is used as is and
teaches nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# metres: a passenger-car mix over a 2 m loop; the demo city's detectors use the same value
DEFAULT_G_M = 5.5
# a plausible effective length: a g outside this range is a loop tuning fault, not traffic
G_MIN_M = 3.0
G_MAX_M = 15.0


@dataclass(frozen=True, slots=True)
class GFactorSettings:
    # below this occupancy (percent) traffic is taken to be free-flowing
    free_flow_occupancy_pct: float = 10.0
    # below this flow per lane a free-flow interval holds too few vehicles to learn from
    min_flow_vphpl: float = 120.0
    # weight of a new free-flow interval in the running estimate
    smoothing: float = 0.05
    # at or above this occupancy with no vehicle counted, the queue stands on the loop
    standstill_occupancy_pct: float = 30.0
    # an estimate above free-flow speed by this factor is capped there (noise at low counts)
    max_speed_factor: float = 1.3


@dataclass(frozen=True, slots=True)
class GFactor:
    """One detector's running effective-vehicle-length estimate."""

    g_m: float = DEFAULT_G_M
    # how many free-flow intervals it has learnt from
    samples: int = 0

    def learn(
        self,
        flow_vphpl: float,
        occupancy_pct: float,
        free_flow_kmh: float,
        settings: GFactorSettings = GFactorSettings(),
    ) -> GFactor:
        """The estimate after one interval; unchanged unless the interval is free-flowing."""
        if occupancy_pct <= 0 or occupancy_pct >= settings.free_flow_occupancy_pct:
            return self
        if flow_vphpl < settings.min_flow_vphpl:
            return self
        g = g_from_free_flow(flow_vphpl, occupancy_pct, free_flow_kmh)
        if not G_MIN_M <= g <= G_MAX_M:
            return self
        # the first intervals weigh more, so a fresh detector converges within minutes
        weight = max(settings.smoothing, 1.0 / (self.samples + 2))
        return replace(self, g_m=self.g_m + weight * (g - self.g_m), samples=self.samples + 1)


def speed_from_g(flow_vphpl: float, occupancy_pct: float, g_m: float) -> float:
    """km/h from flow per lane (veh/h), occupancy (percent) and g (m); occupancy > 0."""
    return flow_vphpl * g_m / (occupancy_pct / 100.0) / 1000.0


def g_from_free_flow(flow_vphpl: float, occupancy_pct: float, free_flow_kmh: float) -> float:
    """The g (m) that makes the g-factor formula give the free-flow speed; flow > 0."""
    return free_flow_kmh * 1000.0 * (occupancy_pct / 100.0) / flow_vphpl


@dataclass(frozen=True, slots=True)
class Speed:
    kmh: float | None
    # True when not measured: from the g-factor, a standstill, or an empty road
    estimated: bool


def station_speed(
    *,
    flow_vphpl: float | None,
    occupancy_pct: float | None,
    measured_kmh: float | None,
    g_m: float,
    free_flow_kmh: float,
    settings: GFactorSettings = GFactorSettings(),
) -> Speed:
    """A station's speed for one interval, measured when it can be, estimated otherwise.

    No vehicle counted while the loop was covered much of the time is a standing queue:
    speed 0, not missing data. No vehicle and an uncovered loop is an empty road: a vehicle
    would drive at free-flow speed.
    """
    if measured_kmh is not None:
        return Speed(measured_kmh, estimated=False)
    if flow_vphpl is None or occupancy_pct is None:
        return Speed(None, estimated=False)
    if occupancy_pct >= settings.standstill_occupancy_pct and flow_vphpl <= 0:
        return Speed(0.0, estimated=True)
    if flow_vphpl <= 0 or occupancy_pct <= 0:
        if occupancy_pct < settings.free_flow_occupancy_pct:
            return Speed(free_flow_kmh, estimated=True)
        # vehicles counted but an uncovered loop (or the reverse at low occupancy): unusable
        return Speed(None, estimated=False)
    speed = speed_from_g(flow_vphpl, occupancy_pct, g_m)
    return Speed(min(speed, free_flow_kmh * settings.max_speed_factor), estimated=True)
