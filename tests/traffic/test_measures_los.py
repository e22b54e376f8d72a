"""Level of service, congestion, density, travel time and TTI on hand-computed cases."""

from __future__ import annotations

import pytest

from roadwatch.traffic.measures.los import colour, is_congested, level_of_service
from roadwatch.traffic.measures.quantities import (
    density_vpkm,
    flow_vph,
    travel_time_index,
    travel_time_s,
)


@pytest.mark.parametrize(
    ("density_pl", "expected"),
    [
        # HCM pc/mi/ln bounds 11/18/26/35/45 ÷ 1.609 = 6.84/11.19/16.16/21.75/27.97 veh/km/ln
        (6.8, "A"),
        (6.9, "B"),
        (11.1, "B"),
        (16.0, "C"),
        (21.7, "D"),
        (21.8, "E"),
        (27.9, "E"),
        (28.0, "F"),
        (120.0, "F"),
    ],
)
def test_freeway_los_follows_hcm_density_per_lane(density_pl: float, expected: str) -> None:
    assert (
        level_of_service("freeway", density_vpkmpl=density_pl, speed_kmh=None, free_flow_kmh=100)
        == expected
    )


@pytest.mark.parametrize(
    ("speed", "expected"),
    [
        # shares of 50 km/h: > 85 % A, > 67 % B, > 50 % C, > 40 % D, > 30 % E, else F
        (45.0, "A"),  # 90 %
        (42.5, "B"),  # exactly 85 %: not above it
        (34.0, "B"),  # 68 %
        (30.0, "C"),  # 60 %
        (22.0, "D"),  # 44 %
        (16.0, "E"),  # 32 %
        (15.0, "F"),  # 30 %
        (0.0, "F"),
    ],
)
def test_street_los_follows_hcm_speed_share(speed: float, expected: str) -> None:
    assert (
        level_of_service("arterial", density_vpkmpl=None, speed_kmh=speed, free_flow_kmh=50)
        == expected
    )


def test_los_is_unknown_without_the_measure_its_class_needs() -> None:
    assert level_of_service("freeway", density_vpkmpl=None, speed_kmh=80, free_flow_kmh=100) is None
    assert level_of_service("ring", density_vpkmpl=10, speed_kmh=None, free_flow_kmh=70) is None


def test_congested_means_los_e_or_f_and_the_map_colours_agree() -> None:
    assert [is_congested(g) for g in ("A", "B", "C", "D", "E", "F", None)] == [
        False,
        False,
        False,
        False,
        True,
        True,
        False,
    ]
    assert colour("A") != colour("F")
    assert colour(None) == "#9e9e9e"


def test_flow_density_travel_time_and_tti() -> None:
    # 25 vehicles in 60 s = 1500 veh/h
    assert flow_vph(25, 60) == pytest.approx(1500)
    # 1500 veh/h at 50 km/h = 30 veh/km
    assert density_vpkm(1500, 50, 20, 5.5) == pytest.approx(30)
    # standing: 82.5 % occupancy / 5.5 m = 0.15 veh/m = 150 veh/km (jam density)
    assert density_vpkm(0, 0, 82.5, 5.5) == pytest.approx(150)
    # 1200 m at 36 km/h (10 m/s) = 120 s; at free flow 72 km/h (20 m/s) 60 s: TTI 2
    assert travel_time_s(1200, 36) == pytest.approx(120)
    assert travel_time_index(1200, 36, 72) == pytest.approx(2.0)
    # a standstill crawls at 5 km/h: 1000 m in 720 s
    assert travel_time_s(1000, 0) == pytest.approx(720)
    assert travel_time_s(1000, None) is None
