"""The demo city's traffic model: what an evaluator of incident detection relies on."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from roadwatch.simulation.city import build_city
from roadwatch.simulation.engine import CitySimulation, SimulationSettings
from roadwatch.simulation.sensors import Reading, density_from_occupancy
from roadwatch.simulation.traffic import FundamentalDiagram, Incident, demand_factor

NETWORK = build_city()
# Wednesday 2026-11-18 and Saturday 2026-11-21, city time UTC
WEDNESDAY = datetime(2026, 11, 18, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 21, tzinfo=UTC)
QUIET = SimulationSettings(fault_rate_per_h=0.0, incident_rate_per_h=0.0, patrols=0)


def at(day: datetime, hour: int, minute: int = 0) -> int:
    return int(day.replace(hour=hour, minute=minute).timestamp())


def run(
    settings: SimulationSettings, start: int, minutes: int
) -> tuple[list[Reading], CitySimulation]:
    sim = CitySimulation(NETWORK, settings, start)
    readings: list[Reading] = []
    while sim.now < start + minutes * 60:
        readings += sim.step()
    return readings, sim


def of(readings: list[Reading], source: str) -> list[Reading]:
    return [r for r in readings if r.source == source]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


@pytest.mark.parametrize("density", [0.0, 5.0, 25.0, 26.0, 60.0, 120.0, 150.0])
def test_flow_is_density_times_speed_on_the_fundamental_diagram(density: float) -> None:
    fd = FundamentalDiagram(free_speed_kmh=70, capacity_vph=1800, jam_density_vpk=150)
    assert fd.flow(density) == pytest.approx(density * fd.speed(density))
    assert 0 <= fd.flow(density) <= fd.capacity_vph
    assert fd.flow(fd.critical_density_vpk) == pytest.approx(fd.capacity_vph)
    assert fd.flow(fd.jam_density_vpk) == 0


def test_detector_readings_keep_flow_equal_to_density_times_speed() -> None:
    settings = replace(QUIET, noise=False)
    readings, _ = run(settings, at(WEDNESDAY, 7, 30), 60)
    checked = 0
    for reading in readings:
        values = reading.values
        if "speed" not in values or values["count"] < 10:
            continue
        lanes = NETWORK.detector_on(reading.source.removeprefix("loop-")).lanes
        flow_per_lane = values["count"] * 3600 / settings.detector_interval_s / lanes
        density = density_from_occupancy(values["occupancy"])
        assert flow_per_lane == pytest.approx(density * values["speed"], rel=0.15), reading
        checked += 1
    assert checked > 100


def test_the_rush_hour_is_busier_than_the_night_and_weekdays_than_saturdays() -> None:
    def total(readings: list[Reading]) -> int:
        return sum(r.values["count"] for r in readings if r.source.startswith("loop-"))

    rush, _ = run(QUIET, at(WEDNESDAY, 8), 30)
    night, _ = run(QUIET, at(WEDNESDAY, 3), 30)
    saturday_morning, _ = run(QUIET, at(SATURDAY, 8), 30)
    assert total(rush) > 8 * total(night)
    assert total(rush) > 1.5 * total(saturday_morning)
    # the weekend peaks in the early afternoon instead
    assert demand_factor(SATURDAY.replace(hour=13, minute=30)) > demand_factor(
        SATURDAY.replace(hour=8)
    )
    # commuters come in in the morning and go home in the evening
    assert demand_factor(WEDNESDAY.replace(hour=8), "inbound") > demand_factor(
        WEDNESDAY.replace(hour=17, minute=15), "inbound"
    )
    assert demand_factor(WEDNESDAY.replace(hour=17, minute=15), "outbound") > demand_factor(
        WEDNESDAY.replace(hour=8), "outbound"
    )


def test_an_incident_slows_its_segment_queues_upstream_and_starves_downstream() -> None:
    start = at(WEDNESDAY, 7, 30)
    segment = NETWORK.segments["N1-C"]
    upstream, downstream = "N2-N1", "C-S1"
    assert upstream in segment.upstream and downstream in segment.downstream
    incident = Incident(
        id="staged",
        segment_id=segment.id,
        start=start + 5 * 60,
        end=start + 45 * 60,
        capacity_factor=0.25,
        lanes_blocked=1,
        offset_m=segment.length_m * 0.9,
    )
    base, _ = run(QUIET, start, 45)
    hit, sim = run(replace(QUIET, incidents=(incident,)), start, 45)

    def during(readings: list[Reading], site: str, key: str) -> float:
        return mean(
            [
                r.values[key]
                for r in of(readings, f"loop-{site}")
                if start + 20 * 60 <= r.ts_ms / 1000 <= start + 45 * 60 and key in r.values
            ]
        )

    assert NETWORK.detector_on(segment.id).measures_speed
    assert during(hit, segment.id, "speed") < 0.6 * during(base, segment.id, "speed")
    assert during(hit, upstream, "occupancy") > 1.5 * during(base, upstream, "occupancy")
    assert during(hit, downstream, "count") < 0.8 * during(base, downstream, "count")
    # the staged incident is in the ground truth, with its true times and place
    started = [e for e in sim.drain_truth() if e.event == "incident.started"]
    assert [(e.data["id"], e.data["segment_id"], e.ts_ms) for e in started] == [
        ("staged", "N1-C", (start + 300) * 1000)
    ]


def test_faults_look_as_the_ground_truth_says() -> None:
    settings = replace(QUIET, fault_rate_per_h=1.0, seed=11)
    start = at(WEDNESDAY, 9)
    readings, sim = run(settings, start, 240)
    faults = [e.data for e in sim.drain_truth() if e.event == "fault.started"]
    kinds = {f["fault"] for f in faults}
    assert kinds == {"stuck", "zero", "dropout"}
    for fault in faults:
        site = fault["detector"]
        begin, end = fault["start_ts"], min(fault["end_ts"], (start + 240 * 60) * 1000)
        # a fault spoils the readings stamped from its start up to (not including) its end
        inside = [r for r in of(readings, site) if begin <= r.ts_ms < end]
        before = [r for r in of(readings, site) if r.ts_ms < begin]
        if fault["fault"] == "dropout":
            assert inside == [], fault
        elif fault["fault"] == "zero":
            assert inside and all(
                r.values["count"] == 0 and r.values["occupancy"] == 0 and "speed" not in r.values
                for r in inside
            ), fault
        else:
            assert inside and before, fault
            assert all(r.values == before[-1].values for r in inside), fault
        # and after it the detector reports live values again
        after = [r for r in of(readings, site) if r.ts_ms >= fault["end_ts"]]
        if len(after) > 5:
            assert len({r.values["count"] for r in after}) > 1


def test_the_same_seed_gives_the_same_city_and_another_seed_another() -> None:
    settings = replace(SimulationSettings(seed=7), fault_rate_per_h=0.5, incident_rate_per_h=3)
    start = at(WEDNESDAY, 16)
    first, sim1 = run(settings, start, 60)
    second, sim2 = run(settings, start, 60)
    other, _ = run(replace(settings, seed=8), start, 60)
    assert first == second
    assert sim1.drain_truth() == sim2.drain_truth()
    assert first != other


def test_patrol_cars_drive_through_the_city_reporting_gps_fixes() -> None:
    readings, _ = run(replace(QUIET, patrols=3), at(WEDNESDAY, 11), 30)
    fixes = [r for r in readings if r.source.startswith("patrol-")]
    assert {r.source for r in fixes} == {"patrol-1", "patrol-2", "patrol-3"}
    assert len(fixes) == 3 * 30 * 6
    lons = [lon for seg in NETWORK.segments.values() for lon, _ in seg.geometry]
    lats = [lat for seg in NETWORK.segments.values() for _, lat in seg.geometry]
    for fix in fixes:
        v = fix.values
        assert set(v) == {"latitude", "longitude", "speed", "heading"}
        assert min(lats) - 1e-4 <= v["latitude"] <= max(lats) + 1e-4
        assert min(lons) - 1e-4 <= v["longitude"] <= max(lons) + 1e-4
        assert 0 <= v["heading"] < 360 and 0 <= v["speed"] <= 90
    track = [(r.values["latitude"], r.values["longitude"]) for r in of(fixes, "patrol-1")]
    # it moves, at road speeds: no jump between fixes 10 s apart beyond 90 km/h
    assert len(set(track)) > 10
    for (lat1, lon1), (lat2, lon2) in itertools.pairwise(track):
        dy = (lat2 - lat1) * 111.32
        dx = (lon2 - lon1) * 111.32 * math.cos(math.radians(lat1))
        assert math.hypot(dx, dy) <= 90 / 360 + 0.02
