"""The state computation's dense parts on hand-computed cases: readings out of telemetry
points, a station's reading over an interval, a segment lane-weighted from its stations."""

from __future__ import annotations

import pytest

from roadwatch.traffic.measures.health import Sample
from roadwatch.traffic.state.compute import aggregate, compute_interval, index
from roadwatch.traffic.state.readings import device_interval_s, readings_from_points
from roadwatch.traffic.state.topology import SegmentInfo, StationInfo, Topology

MIN = 60_000


def test_points_group_into_readings_by_time_and_lanes_give_totals() -> None:
    points = [
        ["count", 2 * MIN, 20],
        ["occupancy", 2 * MIN, 10.5],
        ["speed", 2 * MIN, 44.0],
        ["firmware", 2 * MIN, "1.2"],  # not a detector key
        ["count_l1", 1 * MIN, 12],
        ["count_l2", 1 * MIN, 8],
        ["occupancy_l1", 1 * MIN, 12.0],
        ["occupancy_l2", 1 * MIN, 8.0],
        ["speed_l1", 1 * MIN, 40.0],
        ["speed_l2", 1 * MIN, 50.0],
        ["count", 3 * MIN, "lots"],  # not a number: ignored
    ]
    first, second = readings_from_points(points)
    # lanes only: count 12 + 8 = 20, occupancy (12 + 8) / 2 = 10, speed weighted by count:
    # (40 * 12 + 50 * 8) / 20 = 44
    assert (first.end_ts, first.count, first.occupancy_pct) == (MIN, 20, 10)
    assert first.speed_kmh == pytest.approx(44)
    assert first.lanes["1"] == {"count": 12, "occupancy_pct": 12.0, "speed_kmh": 40.0}
    assert (second.count, second.occupancy_pct, second.speed_kmh) == (20, 10.5, 44.0)


def test_the_device_interval_is_the_smallest_gap_between_readings() -> None:
    # a dropout makes one gap longer; 30 s readings
    assert device_interval_s([30_000, 60_000, 150_000], None, 60) == 30
    assert device_interval_s([60_000], None, 60) == 60
    assert device_interval_s([60_000], 30, 60) == 30


def samples(counts: list[float], occupancy: float = 10.0, lanes: int = 2) -> list[Sample]:
    return [
        Sample(ts=(i + 1) * MIN, count=c, occupancy_pct=occupancy + i, lanes=lanes)
        for i, c in enumerate(counts)
    ]


def test_a_five_minute_reading_covers_its_samples() -> None:
    # 5 minutes, 2 lanes: 20+21+20+21+20 = 102 vehicles in 300 s = 1224 veh/h = 612 per lane;
    # occupancy: mean of 10..14 = 12
    r = aggregate(samples([20, 21, 20, 21, 20]), 0, 5 * MIN)
    assert r is not None
    assert r.flow_vphpl == pytest.approx(612)
    assert r.occupancy_pct == pytest.approx(12)
    # three samples of five (180 s) still count: 60 vehicles in 180 s = 1200 veh/h
    r = aggregate(samples([20, 20, 20]), 0, 5 * MIN)
    assert r is not None
    assert r.flow_vphpl == pytest.approx(600)
    # two (120 s < half of 300 s) do not
    assert aggregate(samples([20, 20]), 0, 5 * MIN) is None


def test_a_segment_is_lane_weighted_over_its_stations() -> None:
    segment = SegmentInfo("S", "R", "arterial", 3, 1000.0, 60.0, None, (), ())
    topology = Topology(
        {"S": segment},
        {
            # X spans lanes 1-2, Y lane 3
            "X": StationInfo("X", "S", 400.0, 2, "dual_loop"),
            "Y": StationInfo("Y", "S", 400.0, 1, "dual_loop"),
        },
    )
    history = {
        # X: 20 vehicles/min = 1200 veh/h over 2 lanes (600 per lane), 10 %, 50 km/h
        "X": [Sample(ts=MIN, count=20, occupancy_pct=10.0, speed_kmh=50.0, lanes=2)],
        # Y: 15 vehicles/min = 900 veh/h on 1 lane, 16 %, 40 km/h
        "Y": [Sample(ts=MIN, count=15, occupancy_pct=16.0, speed_kmh=40.0, lanes=1)],
    }
    (state,) = compute_interval(topology, index(history), {}, 60, MIN)
    # flow per lane (600 * 2 + 900 * 1) / 3 = 700; the segment's 3 lanes: 2100 veh/h
    assert state.flow_vph == pytest.approx(2100)
    # occupancy (10 * 2 + 16 * 1) / 3 = 12 %
    assert state.occupancy_pct == pytest.approx(12)
    # speed weighted by flow: (50 * 1200 + 40 * 900) / 2100 = 45.714 km/h
    assert state.speed_kmh == pytest.approx(96_000 / 2100)
    # density 700 / 45.714 = 15.31 veh/km/lane, 45.94 over 3 lanes
    assert state.density_vpkm == pytest.approx(3 * 700 / (96_000 / 2100))
    # 45.714 / 60 = 76 % of free flow: LOS B
    assert state.los == "B"
    assert [s.device_id for s in state.stations] == ["X", "Y"]


def test_a_silent_station_is_imputed_from_its_neighbour_on_another_segment() -> None:
    up = SegmentInfo("U", "R", "arterial", 2, 1000.0, 50.0, None, (), ("D",))
    down = SegmentInfo("D", "R", "arterial", 2, 1000.0, 50.0, None, ("U",), ())
    topology = Topology(
        {"U": up, "D": down},
        {
            "u": StationInfo("u", "U", 600.0, 2, "dual_loop"),
            "d": StationInfo("d", "D", 600.0, 2, "dual_loop"),
        },
    )
    history = {"u": [Sample(ts=MIN, count=20, occupancy_pct=10.0, speed_kmh=45.0, lanes=2)]}
    by_id = {s.segment.id: s for s in compute_interval(topology, index(history), {}, 60, MIN)}
    d = by_id["D"]
    # no learnt ratio yet: the neighbour's own per-lane values (600 veh/h/lane, 2 lanes)
    assert d.flow_vph == pytest.approx(1200)
    assert d.speed_kmh == pytest.approx(45)
    assert d.imputed
    assert (d.stations[0].healthy, d.stations[0].imputed) == (False, True)
    assert not by_id["U"].imputed
