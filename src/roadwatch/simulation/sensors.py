"""What the devices see of the traffic: loop detector readings per interval (with noise and
faults) and patrol cars driving through the network reporting GPS fixes.

Each model takes its own `random.Random`, and draws the same number of values whatever the
traffic does, so an incident injected into one run changes no noise or fault of another.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from roadwatch.simulation.city import EFFECTIVE_VEHICLE_LENGTH_M, DetectorSite, Network
from roadwatch.simulation.traffic import STEP_S, TrafficModel, TrafficState, cell_speed

FAULT_KINDS = ("stuck", "zero", "dropout")
# how a lane's traffic is shared: the nearside lane carries the most
LANE_SHARES = {1: (1.0,), 2: (0.55, 0.45), 3: (0.4, 0.34, 0.26), 4: (0.3, 0.27, 0.23, 0.2)}


@dataclass(frozen=True, slots=True)
class Reading:
    """What one device reports at one time: `source` is a detector site or patrol car id."""

    source: str
    ts_ms: int
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Fault:
    """A detector fault from `start` to `end` (epoch seconds)."""

    site_id: str
    kind: str
    start: float
    end: float


def occupancy_percent(density_vpkpl: float) -> float:
    """Share of time (%) a loop is covered, at a lane density (veh/km)."""
    return min(100.0, density_vpkpl * EFFECTIVE_VEHICLE_LENGTH_M / 10.0)


def density_from_occupancy(occupancy_pct: float) -> float:
    return occupancy_pct * 10.0 / EFFECTIVE_VEHICLE_LENGTH_M


@dataclass
class _Accumulated:
    vehicles: float = 0.0
    density_time: float = 0.0
    seconds: float = 0.0


@dataclass
class DetectorModel:
    """Turns the CTM's cell flows and densities into each station's interval readings."""

    network: Network
    traffic: TrafficModel
    interval_s: int
    rng: random.Random
    fault_rng: random.Random
    # faults starting per detector per hour
    fault_rate_per_h: float = 0.0
    noise: bool = True
    faults: dict[str, Fault] = field(default_factory=dict)
    _sums: dict[str, _Accumulated] = field(default_factory=dict)
    _last: dict[str, dict[str, Any]] = field(default_factory=dict)
    _cells: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for site in self.network.detectors:
            self._sums[site.id] = _Accumulated()
            self._cells[site.id] = self.traffic.cell_index(site.segment_id, site.offset_m)

    def observe(self, state: TrafficState) -> None:
        """Add one model step to every station's running interval."""
        for site in self.network.detectors:
            cells = state.cells[site.segment_id]
            i = self._cells[site.id]
            acc = self._sums[site.id]
            acc.vehicles += cells.outflow[i] * STEP_S / 3600
            acc.density_time += cells.density[i] * STEP_S
            acc.seconds += STEP_S

    def _fault_changes(self, t: float) -> tuple[list[Fault], list[Fault]]:
        started: list[Fault] = []
        ended: list[Fault] = []
        chance = self.fault_rate_per_h * self.interval_s / 3600
        for site in self.network.detectors:
            # three draws for every station every interval, used or not
            u, pick, length = (
                self.fault_rng.random(),
                self.fault_rng.random(),
                self.fault_rng.random(),
            )
            fault = self.faults.get(site.id)
            if fault is not None and t >= fault.end:
                ended.append(self.faults.pop(site.id))
                continue
            if fault is None and u < chance:
                minutes = 10 + int(length * 50)
                kind = FAULT_KINDS[min(len(FAULT_KINDS) - 1, int(pick * len(FAULT_KINDS)))]
                new = Fault(site.id, kind, t, t + minutes * 60)
                self.faults[site.id] = new
                started.append(new)
        return started, ended

    def readings(
        self, state: TrafficState, t: float
    ) -> tuple[list[Reading], list[Fault], list[Fault]]:
        """The readings of the interval ending at `t`, and the faults that began or ended."""
        started, ended = self._fault_changes(t)
        out: list[Reading] = []
        for site in self.network.detectors:
            speed_now = cell_speed(state, site.segment_id, self._cells[site.id])
            values = self._measure(site, self._sums[site.id], speed_now)
            self._sums[site.id] = _Accumulated()
            fault = self.faults.get(site.id)
            if fault is None:
                self._last[site.id] = values
            elif fault.kind == "dropout":
                continue
            elif fault.kind == "stuck":
                values = dict(self._last.get(site.id) or _zero(site))
            else:
                values = _zero(site)
            out.append(Reading(site.id, int(t * 1000), values))
        return out, started, ended

    def _gauss(self, scale: float) -> float:
        draw = self.rng.gauss(0.0, 1.0)
        return draw * scale if self.noise else 0.0

    def _measure(self, site: DetectorSite, acc: _Accumulated, speed_kmh: float) -> dict[str, Any]:
        shares = LANE_SHARES.get(site.lanes) or tuple([1.0 / site.lanes] * site.lanes)
        mean_density = acc.density_time / acc.seconds if acc.seconds else 0.0
        values: dict[str, Any] = {}
        total = 0
        occupancy_sum = 0.0
        speed_weighted = 0.0
        limit = self.network.segments[site.segment_id].speed_limit_kmh
        for lane, share in enumerate(shares, start=1):
            expected = acc.vehicles * share
            # vehicles near capacity come more regularly than a Poisson stream: half its spread
            count = max(0, round(expected + self._gauss(0.5 * math.sqrt(expected))))
            density = mean_density * share * site.lanes
            occupancy = occupancy_percent(density) * (1 + self._gauss(0.05))
            occupancy = round(max(0.0, min(100.0, occupancy)), 1)
            speed = max(3.0, min(1.3 * limit, speed_kmh * (1 + self._gauss(0.03))))
            values[f"count_l{lane}"] = count
            values[f"occupancy_l{lane}"] = occupancy
            if site.measures_speed and count > 0:
                values[f"speed_l{lane}"] = round(speed, 1)
            total += count
            occupancy_sum += occupancy
            speed_weighted += speed * count
        values["count"] = total
        values["occupancy"] = round(occupancy_sum / site.lanes, 1)
        # no vehicle, no speed: a loop measures speed only from vehicles passing it
        if site.measures_speed and total > 0:
            values["speed"] = round(speed_weighted / total, 1)
        return values


def _zero(site: DetectorSite) -> dict[str, Any]:
    values: dict[str, Any] = {"count": 0, "occupancy": 0.0}
    for lane in range(1, site.lanes + 1):
        values[f"count_l{lane}"] = 0
        values[f"occupancy_l{lane}"] = 0.0
    return values


@dataclass
class Patrol:
    id: str
    segment_id: str
    offset_m: float
    stopped_until: float = 0.0
    speed_kmh: float = 0.0


@dataclass
class PatrolModel:
    """Patrol cars driving with the traffic, turning at random, now and then stopping."""

    network: Network
    traffic: TrafficModel
    rng: random.Random
    cars: list[Patrol] = field(default_factory=list)

    @classmethod
    def place(
        cls, network: Network, traffic: TrafficModel, rng: random.Random, count: int
    ) -> PatrolModel:
        segment_ids = sorted(network.segments)
        cars = []
        for n in range(1, count + 1):
            seg = network.segments[segment_ids[rng.randrange(len(segment_ids))]]
            cars.append(Patrol(f"patrol-{n}", seg.id, rng.uniform(0, seg.length_m)))
        return cls(network, traffic, rng, cars)

    def step(self, state: TrafficState, t: float) -> None:
        for car in self.cars:
            if t < car.stopped_until:
                car.speed_kmh = 0.0
                continue
            seg = self.network.segments[car.segment_id]
            cell = self.traffic.cell_index(seg.id, car.offset_m)
            flow_speed = cell_speed(state, seg.id, cell)
            car.speed_kmh = min(seg.speed_limit_kmh + 10, flow_speed * self.rng.uniform(0.9, 1.08))
            car.offset_m += car.speed_kmh / 3.6 * STEP_S
            while car.offset_m >= seg.length_m:
                car.offset_m -= seg.length_m
                # at the city's edge the car turns round
                choices = seg.downstream or (f"{seg.to_node}-{seg.from_node}",)
                seg = self.network.segments[choices[self.rng.randrange(len(choices))]]
                car.segment_id = seg.id
                if self.rng.random() < 0.04:
                    # called to something: parks for a few minutes
                    car.offset_m = min(car.offset_m, 5.0)
                    car.stopped_until = t + self.rng.uniform(120, 480)
                    break

    def readings(self, t: float) -> list[Reading]:
        out = []
        for car in self.cars:
            seg = self.network.segments[car.segment_id]
            lon, lat, heading = seg.point_at(car.offset_m)
            values = {
                "latitude": lat,
                "longitude": lon,
                "speed": round(car.speed_kmh, 1),
                "heading": heading,
            }
            out.append(Reading(car.id, int(t * 1000), values))
        return out
