"""The g-factor speed estimate (PeMS), on hand-computed cases."""

from __future__ import annotations

import pytest

from roadwatch.traffic.measures.gfactor import (
    DEFAULT_G_M,
    GFactor,
    g_from_free_flow,
    speed_from_g,
    station_speed,
)


def test_speed_is_flow_times_g_over_occupancy_in_consistent_units() -> None:
    # 900 veh/h/lane, 10 % occupancy, g 5.5 m:
    # 900 veh/h * 5.5 m / 0.10 = 49,500 m/h = 49.5 km/h
    assert speed_from_g(900, 10.0, 5.5) == pytest.approx(49.5)


def test_g_is_what_makes_a_free_flow_interval_read_free_flow_speed() -> None:
    # 70 km/h at 600 veh/h/lane and 7 % occupancy: g = 70,000 m/h * 0.07 / 600 = 8.1667 m
    assert g_from_free_flow(600, 7.0, 70.0) == pytest.approx(70_000 * 0.07 / 600)


def test_g_learns_only_from_free_flowing_intervals() -> None:
    g = GFactor()
    # congested (occupancy over the free-flow bound 10 %): nothing learnt
    assert g.learn(1500, 25.0, 70.0) == g
    # too few vehicles to learn from (under 120 veh/h/lane)
    assert g.learn(60, 1.0, 70.0) == g
    # free flow at 600 veh/h/lane, 6 % -> g = 70,000 * 0.06 / 600 = 7.0 m; the first
    # interval weighs 1/2: 5.5 + 0.5 * (7.0 - 5.5) = 6.25
    first = g.learn(600, 6.0, 70.0)
    assert first.g_m == pytest.approx(6.25)
    assert first.samples == 1
    # the second weighs 1/3: 6.25 + (7.0 - 6.25) / 3 = 6.5
    assert first.learn(600, 6.0, 70.0).g_m == pytest.approx(6.5)


def test_g_converges_to_the_detectors_effective_length() -> None:
    g = GFactor()
    for _ in range(300):
        g = g.learn(600, 6.0, 70.0)
    assert g.g_m == pytest.approx(7.0, abs=0.01)


def test_an_implausible_g_is_a_tuning_fault_and_is_not_learnt() -> None:
    # 70,000 * 0.09 / 200 = 31.5 m: no vehicle is that long
    assert GFactor().learn(200, 9.0, 70.0) == GFactor()


def test_a_dual_loops_measured_speed_is_used_as_is() -> None:
    speed = station_speed(
        flow_vphpl=900, occupancy_pct=10.0, measured_kmh=42.0, g_m=DEFAULT_G_M, free_flow_kmh=70
    )
    assert (speed.kmh, speed.estimated) == (42.0, False)


def test_a_single_loops_speed_is_estimated_with_its_g() -> None:
    speed = station_speed(
        flow_vphpl=900, occupancy_pct=10.0, measured_kmh=None, g_m=6.0, free_flow_kmh=70
    )
    # 900 * 6.0 / 0.10 / 1000 = 54 km/h
    assert speed.kmh == pytest.approx(54.0)
    assert speed.estimated


def test_standstill_is_speed_zero_not_missing_data() -> None:
    # the queue stands on the loop: occupancy 85 %, nobody crosses it
    speed = station_speed(
        flow_vphpl=0, occupancy_pct=85.0, measured_kmh=None, g_m=5.5, free_flow_kmh=50
    )
    assert (speed.kmh, speed.estimated) == (0.0, True)


def test_an_empty_road_runs_at_free_flow_speed() -> None:
    speed = station_speed(
        flow_vphpl=0, occupancy_pct=0.0, measured_kmh=None, g_m=5.5, free_flow_kmh=50
    )
    assert (speed.kmh, speed.estimated) == (50.0, True)


def test_no_reading_gives_no_speed() -> None:
    speed = station_speed(
        flow_vphpl=None, occupancy_pct=None, measured_kmh=None, g_m=5.5, free_flow_kmh=50
    )
    assert speed.kmh is None


def test_an_estimate_far_above_free_flow_is_capped() -> None:
    # 600 * 5.5 / 0.02 / 1000 = 165 km/h on a 50 km/h street: capped at 1.3 * 50 = 65
    speed = station_speed(
        flow_vphpl=600, occupancy_pct=2.0, measured_kmh=None, g_m=5.5, free_flow_kmh=50
    )
    assert speed.kmh == pytest.approx(65.0)
