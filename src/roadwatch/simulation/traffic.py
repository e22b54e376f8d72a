"""The traffic model: daily demand, a triangular fundamental diagram, and a cell transmission
model (Daganzo's CTM) over the city's network, with incidents as capacity drops.

Pure functions and a state object advanced step by step: nothing here reads a clock or
draws a random number, so every behaviour can be checked in a unit test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from roadwatch.simulation.city import Network, Segment

# model time step; cells are at least as long as free-flow traffic drives in one step
STEP_S = 10


def _bump(hour: float, centre: float, width: float) -> float:
    return math.exp(-0.5 * ((hour - centre) / width) ** 2)


# amplitudes of the (AM peak, PM peak) for each kind of demand on a weekday
_PEAKS = {"inbound": (1.0, 0.45), "outbound": (0.4, 1.0), "local": (0.75, 0.8)}


def demand_factor(local_time: datetime, kind: str = "local") -> float:
    """Share (0..~1.1) of a source's peak rate at this local time.

    Weekdays have a sharp morning peak (08:00) and a broader evening one (17:15) over a
    daytime plateau; inbound commuter traffic peaks in the morning, outbound in the
    evening. Saturdays have one broad early-afternoon hump, Sundays a lower one. Nights
    keep a small floor.
    """
    hour = local_time.hour + local_time.minute / 60 + local_time.second / 3600
    night = 0.04
    weekday = local_time.weekday()
    if weekday >= 5:
        height = 0.55 if weekday == 5 else 0.4
        value = night + height * _bump(hour, 13.5, 3.2)
    else:
        am, pm = _PEAKS.get(kind, _PEAKS["local"])
        value = (
            night
            + am * _bump(hour, 8.0, 0.9)
            + pm * _bump(hour, 17.25, 1.3)
            + 0.45 * _bump(hour, 12.75, 3.0)
        )
    return min(1.1, value)


@dataclass(frozen=True, slots=True)
class FundamentalDiagram:
    """Triangular flow-density relation of one lane: free flow up to the critical density,
    then flow falls linearly to zero at jam density (the congestion wave speed)."""

    free_speed_kmh: float
    capacity_vph: float
    jam_density_vpk: float

    @property
    def critical_density_vpk(self) -> float:
        return self.capacity_vph / self.free_speed_kmh

    @property
    def wave_speed_kmh(self) -> float:
        return self.capacity_vph / (self.jam_density_vpk - self.critical_density_vpk)

    def flow(self, density_vpk: float) -> float:
        """Equilibrium flow (veh/h) at a density (veh/km)."""
        k = max(0.0, min(density_vpk, self.jam_density_vpk))
        if k <= self.critical_density_vpk:
            return self.free_speed_kmh * k
        return self.wave_speed_kmh * (self.jam_density_vpk - k)

    def speed(self, density_vpk: float) -> float:
        """Equilibrium speed (km/h) at a density; free speed on an empty road."""
        if density_vpk <= 1e-9:
            return self.free_speed_kmh
        return self.flow(density_vpk) / density_vpk

    def sending(self, density_vpk: float, capacity_vph: float | None = None) -> float:
        return min(self.free_speed_kmh * density_vpk, capacity_vph or self.capacity_vph)

    def receiving(self, density_vpk: float) -> float:
        return min(self.capacity_vph, self.wave_speed_kmh * (self.jam_density_vpk - density_vpk))


def diagram_of(segment: Segment, speed_factor: float = 1.0) -> FundamentalDiagram:
    return FundamentalDiagram(
        segment.speed_limit_kmh * speed_factor, segment.capacity_vphpl, segment.jam_density_vpkpl
    )


@dataclass(frozen=True, slots=True)
class Incident:
    """A crash or breakdown: from `start` to `end` (epoch seconds) the segment lets through
    only `capacity_factor` of its capacity past `offset_m`, and drivers slow down along it."""

    id: str
    segment_id: str
    start: float
    end: float
    capacity_factor: float
    lanes_blocked: int
    offset_m: float
    # rubbernecking: free speed along the whole segment falls to this share
    speed_factor: float = 0.6

    def active(self, t: float) -> bool:
        return self.start <= t < self.end


@dataclass
class _Cells:
    segment: Segment
    length_km: float
    density: list[float]
    # vehicles that crossed each cell's downstream boundary during the last step, per hour
    outflow: list[float]


@dataclass
class TrafficState:
    """Densities (veh/km per lane) of every cell, and vehicles waiting to enter at sources."""

    cells: dict[str, _Cells]
    waiting: dict[str, float] = field(default_factory=dict)


def cell_count(segment: Segment) -> int:
    # the CTM is stable only if no vehicle crosses a whole cell in one step
    cell_km = segment.speed_limit_kmh * STEP_S / 3600
    return max(1, int(segment.length_m / 1000 / cell_km))


def _turn_weight(network: Network, from_seg: Segment, to_seg: Segment) -> float:
    # going straight on is three times as likely as a turn
    a = network.nodes[from_seg.from_node]
    b = network.nodes[from_seg.to_node]
    c = network.nodes[to_seg.to_node]
    h1 = math.atan2(b.y_km - a.y_km, b.x_km - a.x_km)
    h2 = math.atan2(c.y_km - b.y_km, c.x_km - b.x_km)
    turn = abs((math.degrees(h2 - h1) + 180) % 360 - 180)
    return 3.0 if turn < 35 else 1.0


class TrafficModel:
    """CTM over `network`: one call of `step` advances every cell by STEP_S seconds."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.turns: dict[str, dict[str, float]] = {}
        for seg in network.segments.values():
            weights = {d: _turn_weight(network, seg, network.segments[d]) for d in seg.downstream}
            total = sum(weights.values())
            self.turns[seg.id] = {d: w / total for d, w in weights.items()}

    def initial_state(self) -> TrafficState:
        cells: dict[str, _Cells] = {}
        for seg in self.network.segments.values():
            n = cell_count(seg)
            cells[seg.id] = _Cells(seg, seg.length_m / 1000 / n, [0.0] * n, [0.0] * n)
        return TrafficState(cells, {s: 0.0 for s in self.network.segments})

    def cell_index(self, segment_id: str, offset_m: float) -> int:
        seg = self.network.segments[segment_id]
        n = cell_count(seg)
        return max(0, min(n - 1, int(offset_m / seg.length_m * n)))

    def step(
        self, state: TrafficState, t: float, local_time: datetime, incidents: list[Incident]
    ) -> None:
        """Advance `state` by one step that starts at epoch second `t` (local: `local_time`)."""
        dt_h = STEP_S / 3600
        active = {i.segment_id: i for i in incidents if i.active(t)}
        diagrams: dict[str, FundamentalDiagram] = {}
        sending: dict[str, list[float]] = {}
        receiving: dict[str, list[float]] = {}
        for seg_id, c in state.cells.items():
            seg = c.segment
            incident = active.get(seg_id)
            fd = diagram_of(seg, incident.speed_factor if incident else 1.0)
            diagrams[seg_id] = fd
            send = [fd.sending(k) * seg.lanes for k in c.density]
            if incident is not None:
                # the bottleneck: the cell holding the incident lets through less
                at = min(len(send) - 1, int(incident.offset_m / seg.length_m * len(send)))
                send[at] = min(send[at], seg.capacity_vphpl * incident.capacity_factor * seg.lanes)
            sending[seg_id] = send
            receiving[seg_id] = [fd.receiving(k) * seg.lanes for k in c.density]

        inflow: dict[str, list[float]] = {s: [0.0] * len(c.density) for s, c in state.cells.items()}
        outflow: dict[str, list[float]] = {
            s: [0.0] * len(c.density) for s, c in state.cells.items()
        }
        # within a segment: cell i hands over to cell i+1
        for seg_id, c in state.cells.items():
            for i in range(len(c.density) - 1):
                f = min(sending[seg_id][i], receiving[seg_id][i + 1])
                outflow[seg_id][i] = f
                inflow[seg_id][i + 1] = f
        # at nodes: each movement is held back only by the road it turns into (turn lanes),
        # so one jammed exit does not stop a whole approach and gridlock the city
        for node_id, node in self.network.nodes.items():
            desired: dict[str, dict[str, float]] = {}
            leaving: dict[str, float] = {}
            for a in self.network.inbound[node_id]:
                total = sending[a][-1]
                share = 1.0 - (node.exit_share if self.turns[a] else 1.0)
                desired[a] = {d: total * share * p for d, p in self.turns[a].items()}
                leaving[a] = total * (1.0 - share)
            for o in self.network.outbound[node_id]:
                seg = self.network.segments[o]
                rate = seg.source_peak_vph * demand_factor(local_time, seg.source_kind)
                # side-street traffic waits when the road is full, and enters later
                desired[f"src:{o}"] = {o: rate + state.waiting[o] / dt_h}
            ratio: dict[str, float] = {}
            for o in self.network.outbound[node_id]:
                asked = sum(flows.get(o, 0.0) for flows in desired.values())
                ratio[o] = 1.0 if asked <= receiving[o][0] else receiving[o][0] / asked
            for a, flows in desired.items():
                moved = 0.0
                for o, f in flows.items():
                    inflow[o][0] += f * ratio[o]
                    moved += f * ratio[o]
                if a.startswith("src:"):
                    o = a[4:]
                    state.waiting[o] = (flows[o] - moved) * dt_h
                else:
                    outflow[a][-1] = leaving[a] + moved
        for seg_id, c in state.cells.items():
            lanes = c.segment.lanes
            for i in range(len(c.density)):
                change = (inflow[seg_id][i] - outflow[seg_id][i]) * dt_h / (c.length_km * lanes)
                c.density[i] = max(0.0, min(c.segment.jam_density_vpkpl, c.density[i] + change))
            c.outflow = outflow[seg_id]


def cell_speed(state: TrafficState, segment_id: str, index: int) -> float:
    """Space-mean speed (km/h) of a cell over the last step: its outflow over its density."""
    c = state.cells[segment_id]
    k = c.density[index]
    lanes = c.segment.lanes
    if k < 0.5:
        return c.segment.speed_limit_kmh
    return min(c.segment.speed_limit_kmh, c.outflow[index] / (k * lanes))
