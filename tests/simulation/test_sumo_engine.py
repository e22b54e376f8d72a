"""The SUMO engine: a generated corridor run through TraCI reports what SUMO's own
detectors measure, and an incident staged through TraCI blocks the road."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from roadwatch.simulation.sensors import Reading
from roadwatch.simulation.sumo.e1_output import read_e1
from roadwatch.simulation.sumo.engine import SumoSettings, SumoSimulation
from roadwatch.simulation.sumo.incidents import IncidentPlan
from roadwatch.simulation.sumo.scenario import Scenario, ScenarioSpec, build_scenario

# percentage points between our occupancy and SUMO's own E1 file (measured: at most 1.4)
OCCUPANCY_TOLERANCE = 1.5
# a weekday morning near the peak: the corridor is busy but flowing
START = int(datetime(2026, 11, 18, 7, 30, tzinfo=UTC).timestamp())


@pytest.fixture
def corridor(tmp_path: Path) -> Scenario:
    return build_scenario(ScenarioSpec(edges=5, edge_length_m=500.0), tmp_path / "corridor")


def run(scenario: Scenario, settings: SumoSettings, minutes: int) -> list[Reading]:
    readings: list[Reading] = []
    with SumoSimulation(scenario, settings, START) as sim:
        while sim.now < START + minutes * 60:
            readings += sim.step()
        truth = sim.drain_truth()
    assert not truth or settings.incidents
    return readings


def test_the_corridor_has_a_station_on_every_link_of_both_directions(corridor: Scenario) -> None:
    network = corridor.sumo_net.network
    assert len(network.segments) == 10
    assert {s.segment_id for s in network.detectors} == set(network.segments)
    main = ["K0-K1", "K1-K2", "K2-K3", "K3-K4", "K4-K5"]
    for a, b in itertools.pairwise(main):
        assert network.segments[a].downstream == (b,)
        assert network.segments[b].upstream == (a,)
    assert network.segments["K0-K1"].upstream == ()
    assert all(s.lanes == 3 and s.measures_speed for s in network.detectors)
    # the E1 loops: one per lane of each station, 2 m long, reporting every minute
    loops = corridor.detectors_path.read_text()
    assert loops.count("<inductionLoop ") == 30
    assert 'length="2.0"' in loops and 'period="60"' in loops


def test_readings_count_what_sumos_own_detectors_count(corridor: Scenario) -> None:
    readings = run(corridor, SumoSettings(patrols=2, warmup_s=300, duration_s=600), 10)
    loops = [r for r in readings if r.source.startswith("loop-")]
    fixes = [r for r in readings if r.source.startswith("patrol-")]
    assert len(loops) == 10 * 10
    assert fixes and all(47.9 < r.values["latitude"] < 48.1 for r in fixes)
    sumo = {(i.station, i.end * 1000): i for i in read_e1(
        corridor.e1_output_path, corridor.sumo_net.stations, START - 300
    )}  # fmt: skip
    busy = 0
    for reading in loops:
        own = sumo[(reading.source, reading.ts_ms)]
        values = reading.values
        assert values["count"] == own.count
        assert values["count"] == sum(values[f"count_l{n}"] for n in (1, 2, 3))
        # occupancy: SUMO's over TraCI plus the vehicles still on the loop at the interval's
        # end; SUMO's file splits a vehicle over two intervals a little differently
        assert values["occupancy"] == pytest.approx(own.occupancy_pct, abs=OCCUPANCY_TOLERANCE)
        if own.speed_kmh is None:
            assert "speed" not in values
        else:
            assert values["speed"] == pytest.approx(own.speed_kmh, abs=0.1)
            busy += own.count > 20
    # the morning is busy: most station-minutes see dozens of vehicles at motorway speed
    assert busy > 80
    assert sum(r.values["speed"] for r in loops) / len(loops) > 75


def test_an_incident_blocking_every_lane_stops_the_road_and_queues_upstream(
    corridor: Scenario,
) -> None:
    # all three lanes of K2-K3 blocked 400 m in (its station sits at 250 m) for 8 minutes
    incident = IncidentPlan("crash-1", "K2-K3", 400.0, (0, 1, 2), START + 300, 480)
    settings = SumoSettings(patrols=0, warmup_s=300, duration_s=1200, incidents=(incident,))
    readings = run(corridor, settings, 20)

    def series(station: str, key: str) -> dict[int, float]:
        return {
            (r.ts_ms // 1000 - START) // 60: float(r.values.get(key, -1))
            for r in readings
            if r.source == station
        }

    before = range(1, 6)
    during = range(10, 14)
    up_occ = series("loop-K2-K3", "occupancy")
    down_count = series("loop-K3-K4", "count")
    up_speed = series("loop-K1-K2", "speed")
    assert max(up_occ[m] for m in before) < 20
    # the queue stands over the loops upstream of the spot, and nothing gets past it
    assert min(up_occ[m] for m in during) > 60
    assert all(down_count[m] == 0 for m in during)
    assert min(down_count[m] for m in before) > 20
    # the queue reaches the station on the link before within the incident
    assert max(up_speed[m] for m in range(11, 13)) < 30
    # and once the vehicles drive on, the road recovers
    assert max(down_count[m] for m in range(16, 20)) > 30


def test_a_lane_drop_narrows_each_directions_last_link(tmp_path: Path) -> None:
    spec = ScenarioSpec(edges=4, edge_length_m=400.0, bottleneck_lanes=2)
    network = build_scenario(spec, tmp_path).sumo_net.network
    lanes = {s.id: s.lanes for s in network.segments.values()}
    assert lanes["K3-K4"] == lanes["K1-K0"] == 2
    assert {lanes[k] for k in ("K0-K1", "K1-K2", "K2-K3", "K4-K3", "K3-K2", "K2-K1")} == {3}
    assert network.detector_on("K3-K4").lanes == 2
    with pytest.raises(ValueError, match="lane drop"):
        ScenarioSpec(lanes=3, bottleneck_lanes=3).check()
