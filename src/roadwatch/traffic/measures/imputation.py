"""Filling in a bad or missing station from its neighbours, by ratio to each neighbour.

While a station and a neighbour (another station on the same segment, or the nearest on an
upstream or downstream segment) are both healthy, we keep an exponentially smoothed ratio of
their flow per lane, occupancy and speed (`Ratios.learn`). When the station is bad, each
healthy neighbour's reading times its ratio is an estimate, and the estimate is their mean
(`impute`). A neighbour without a learnt ratio counts at ratio 1 (the same per-lane flow,
occupancy and speed): on a corridor without turning traffic that is what conservation of
vehicles says, and it is replaced by the learnt ratio as soon as there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import fmean

# a ratio past these bounds comes from near-empty intervals, not from the road
RATIO_MIN = 0.2
RATIO_MAX = 5.0


@dataclass(frozen=True, slots=True)
class Reading:
    flow_vphpl: float | None
    occupancy_pct: float | None
    speed_kmh: float | None


@dataclass(frozen=True, slots=True)
class Ratios:
    """This station's value over a neighbour's, per measure (1.0 until learnt)."""

    flow: float = 1.0
    occupancy: float = 1.0
    speed: float = 1.0
    samples: int = 0

    def learn(self, own: Reading, neighbour: Reading, smoothing: float = 0.05) -> Ratios:
        weight = max(smoothing, 1.0 / (self.samples + 2))

        def step(current: float, a: float | None, b: float | None, floor: float) -> float:
            if a is None or b is None or a < floor or b < floor:
                return current
            ratio = a / b
            if not RATIO_MIN <= ratio <= RATIO_MAX:
                return current
            return current + weight * (ratio - current)

        return replace(
            self,
            flow=step(self.flow, own.flow_vphpl, neighbour.flow_vphpl, 60.0),
            occupancy=step(self.occupancy, own.occupancy_pct, neighbour.occupancy_pct, 1.0),
            speed=step(self.speed, own.speed_kmh, neighbour.speed_kmh, 5.0),
            samples=self.samples + 1,
        )


def impute(neighbours: Sequence[tuple[Reading, Ratios]]) -> Reading | None:
    """The estimate from the healthy neighbours' readings; None when there is none."""
    if not neighbours:
        return None

    def mean(values: list[float]) -> float | None:
        return fmean(values) if values else None

    return Reading(
        flow_vphpl=mean([r.flow_vphpl * q.flow for r, q in neighbours if r.flow_vphpl is not None]),
        occupancy_pct=mean(
            [
                min(100.0, r.occupancy_pct * q.occupancy)
                for r, q in neighbours
                if r.occupancy_pct is not None
            ]
        ),
        speed_kmh=mean([r.speed_kmh * q.speed for r, q in neighbours if r.speed_kmh is not None]),
    )
