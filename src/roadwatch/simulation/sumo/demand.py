"""The scenario's demand as a SUMO route file: flows from every entry of the network to its
exits, their rate following the synthetic city's daily profile (`demand_factor`) in
15-minute blocks, arrivals random (a Bernoulli draw per second and lane, close to Poisson).

On the corridor each direction's peak is near, and mostly under, its capacity: the main
direction peaks in the morning (commuters), the other in the evening.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from roadwatch.simulation.sumo.scenario import Scenario
from roadwatch.simulation.traffic import demand_factor

BLOCK_S = 900
# vehicle types: a mix of cars with a spread of desired speeds and some lorries, and the
# patrol cars (their own type, so they are never mistaken for the traffic they report on)
VEHICLE_TYPES = """  <vType id="patrol" vClass="passenger" length="4.9" minGap="2.5" accel="3.0"
         decel="5.0" sigma="0.3" speedFactor="1.05" color="0,0,255"/>
  <vTypeDistribution id="mix">
    <vType id="car" vClass="passenger" length="4.6" minGap="2.5" accel="2.6" decel="4.5"
           sigma="0.5" speedFactor="normc(1,0.1,0.7,1.3)" probability="0.9"/>
    <vType id="lorry" vClass="truck" length="12.0" minGap="3.0" accel="1.1" decel="4.0"
           sigma="0.5" maxSpeed="25.0" speedFactor="normc(1,0.05,0.9,1.1)" probability="0.1"/>
  </vTypeDistribution>
"""
# the corridor: peak entry rate per lane of the main (morning) direction, veh/h; SUMO's
# default drivers carry about 1,900 veh/h a lane with this mix of lorries
CORRIDOR_PEAK_VPHPL = 1500.0
# a grid street entry's peak, veh/h per lane (junctions with lights halve what a lane carries)
GRID_PEAK_VPHPL = 300.0


@dataclass(frozen=True, slots=True)
class Source:
    """Traffic entering at `edge`, spread over `sinks` by `shares`, `peak_vph` at its peak."""

    edge: str
    sinks: tuple[str, ...]
    shares: tuple[float, ...]
    lanes: int
    peak_vph: float
    profile: str


def entries_and_exits(scenario: Scenario) -> tuple[list[str], list[str]]:
    """Edges where traffic enters (no way in but from outside) and leaves the network."""
    segments = scenario.sumo_net.network.segments
    entries = sorted(s.id for s in segments.values() if not s.upstream)
    exits = sorted(s.id for s in segments.values() if not s.downstream)
    return entries, exits


def sources(scenario: Scenario, scale: float, rng: random.Random) -> list[Source]:
    segments = scenario.sumo_net.network.segments
    entries, exits = entries_and_exits(scenario)
    out: list[Source] = []
    if scenario.spec.kind == "corridor":
        # two directions: K0 -> Kn peaks in the morning, Kn -> K0 in the evening
        for entry in entries:
            seg = segments[entry]
            # the exit at the far end, not the way back out where it came in
            sink = next(e for e in exits if segments[e].to_node != seg.from_node)
            profile = "inbound" if seg.from_node == "K0" else "outbound"
            peak = CORRIDOR_PEAK_VPHPL * seg.lanes * scale
            out.append(Source(entry, (sink,), (1.0,), seg.lanes, peak, profile))
        return out
    for entry in entries:
        seg = segments[entry]
        # each entry feeds three exits (not its own road back), the nearest-named first
        choices = [e for e in exits if segments[e].to_node != seg.from_node]
        rng.shuffle(choices)
        sinks = tuple(sorted(choices[:3]))
        if not sinks:
            continue
        weights = [rng.uniform(0.5, 1.5) for _ in sinks]
        total = sum(weights)
        peak = GRID_PEAK_VPHPL * seg.lanes * scale
        out.append(
            Source(entry, sinks, tuple(w / total for w in weights), seg.lanes, peak, "local")
        )
    return out


def write_routes(
    scenario: Scenario,
    sumo_start: float,
    horizon_s: int,
    zone: tzinfo,
    seed: int,
    scale: float = 1.0,
) -> Path:
    """Flows for SUMO time 0 .. `horizon_s`, SUMO time 0 being epoch `sumo_start`."""
    rng = random.Random(seed)
    feeds = sources(scenario, scale, rng)
    lines = ["<routes>", VEHICLE_TYPES]
    for block in range(0, horizon_s, BLOCK_S):
        local = datetime.fromtimestamp(sumo_start + block + BLOCK_S / 2, zone)
        for src in feeds:
            rate = src.peak_vph * demand_factor(local, src.profile)
            for sink, share in zip(src.sinks, src.shares, strict=True):
                for lane in range(src.lanes):
                    p = rate * share / src.lanes / 3600.0
                    if p <= 0:
                        continue
                    attrs: dict[str, Any] = {
                        "id": f"{src.edge}.{sink}.{lane}.{block // BLOCK_S}",
                        "type": "mix",
                        "begin": block,
                        "end": block + BLOCK_S,
                        "from": src.edge,
                        "to": sink,
                        "probability": f"{min(1.0, p):.5f}",
                        "departLane": lane,
                        "departSpeed": "max",
                    }
                    body = " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items())
                    lines.append(f"  <flow {body}/>")
    lines.append("</routes>")
    path = scenario.directory / "demand.rou.xml"
    path.write_text("\n".join(lines) + "\n")
    return path
