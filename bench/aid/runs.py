"""One bench run: a SUMO corridor at some time of a weekday, with or without one staged
incident, recorded as every station's interval series (what the algorithms read) and the
run's ground truth."""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from roadwatch.simulation.sumo.engine import SumoSettings, SumoSimulation
from roadwatch.simulation.sumo.incidents import IncidentPlan
from roadwatch.simulation.sumo.scenario import ScenarioSpec, build_scenario
from roadwatch.traffic.aid import StationInterval

# a Wednesday: the demand profile's weekday shape
DAY = datetime(2026, 11, 18, tzinfo=UTC)
INTERVAL_S = 60
# the corridor fills in under 3 minutes; SND's baseline builds up within the run
WARMUP_S = 300


@dataclass(frozen=True)
class RunSpec:
    seed: int
    # epoch s of the first reported interval's start
    start: int
    minutes: int
    warmup_s: int
    corridor: ScenarioSpec
    incident: IncidentPlan | None = None


@dataclass(frozen=True)
class RunResult:
    spec: RunSpec
    # station id -> its intervals in time order
    series: dict[str, list[StationInterval]]
    # (upstream station, downstream station), adjacent along the traffic's direction
    pairs: list[tuple[str, str]]
    # station id -> (edge, position on it, m)
    stations: dict[str, tuple[str, float]]
    # the incident as it really happened (truth event payload), if any
    truth: dict[str, Any] | None
    wall_s: float


def plan_runs(
    count: int, minutes: int, corridor: ScenarioSpec, first_seed: int, with_incident: bool
) -> list[RunSpec]:
    """`count` runs at random times of day (06:00-20:00), each with its own seed; with an
    incident on a random inner link, at a random spot, starting 10-20 min into the
    run and lasting 5-15 min, blocking every lane."""
    out = []
    for n in range(count):
        seed = first_seed + n
        rng = random.Random(seed * 104729)
        minute_of_day = rng.randrange(6 * 60, 20 * 60)
        start = int(DAY.timestamp()) + minute_of_day * 60
        incident = None
        if with_incident:
            edge = rng.choice(incident_links(corridor.edges))
            pos = round(corridor.edge_length_m * rng.uniform(0.15, 0.85), 1)
            begin = start + rng.randrange(10, 21) * 60 + rng.randrange(0, 60, 10)
            duration = rng.randrange(5, 16) * 60
            lanes = tuple(range(corridor.lanes))
            incident = IncidentPlan(f"incident-{seed}", edge, pos, lanes, begin, duration)
        out.append(RunSpec(seed, start, minutes, WARMUP_S, corridor, incident))
    return out


def incident_links(edges: int) -> list[str]:
    """Every link of both directions but each direction's first and last: with no station
    upstream of the first, a queue there is seen by none; past the last station nothing
    downstream would see the road empty."""
    forward = [f"K{i}-K{i + 1}" for i in range(1, edges - 1)]
    backward = [f"K{i + 1}-K{i}" for i in range(1, edges - 1)]
    return forward + backward


def simulate(spec: RunSpec) -> RunResult:
    """Run SUMO for the spec (in a scratch directory) and collect the station series."""
    import time

    wall = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rw-aid-") as scratch:
        scenario = build_scenario(spec.corridor, Path(scratch))
        settings = SumoSettings(
            seed=spec.seed,
            patrols=0,
            warmup_s=spec.warmup_s,
            duration_s=spec.minutes * 60,
            incidents=(spec.incident,) if spec.incident else (),
        )
        series: dict[str, list[StationInterval]] = {
            s.site.id: [] for s in scenario.sumo_net.stations
        }
        truth: dict[str, Any] | None = None
        with SumoSimulation(scenario, settings, spec.start) as sim:
            while sim.now < spec.start + spec.minutes * 60:
                for reading in sim.step():
                    values = reading.values
                    series[reading.source].append(
                        StationInterval(
                            end_ts=reading.ts_ms,
                            flow_vph=values["count"] * 3600.0 / INTERVAL_S,
                            occupancy_pct=values["occupancy"],
                            speed_kmh=values.get("speed"),
                        )
                    )
                for event in sim.drain_truth():
                    if event.event == "incident.started":
                        truth = event.as_dict()
        net = scenario.sumo_net
        by_edge = {s.edge_id: s.site.id for s in net.stations}
        pairs = [
            (by_edge[seg.id], by_edge[down])
            for seg in net.network.segments.values()
            for down in seg.downstream
            if seg.id in by_edge and down in by_edge
        ]
        stations = {s.site.id: (s.edge_id, s.site.offset_m) for s in net.stations}
    return RunResult(spec, series, pairs, stations, truth, time.monotonic() - wall)
