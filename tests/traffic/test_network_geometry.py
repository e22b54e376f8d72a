"""The dense pure parts of the network code on hand-computed cases: great-circle distances,
lengths and points along a line, topology from nodes, road classes from SUMO edges."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest

from roadwatch.traffic.network.geometry import (
    EARTH_RADIUS_M,
    great_circle_m,
    point_along,
    polyline_length_m,
)
from roadwatch.traffic.network.sumo import _road_class
from roadwatch.traffic.network.topology import derived_links


def test_great_circle_distances_match_the_sphere() -> None:
    # a degree of latitude is R·π/180 anywhere; a degree of longitude shrinks with cos(lat)
    assert great_circle_m(12, 48, 12, 49) == pytest.approx(EARTH_RADIUS_M * math.pi / 180)
    east = great_circle_m(12, 48, 12.001, 48)
    assert east == pytest.approx(
        EARTH_RADIUS_M * math.radians(0.001) * math.cos(math.radians(48)), rel=1e-6
    )
    assert great_circle_m(0, 0, 180, 0) == pytest.approx(EARTH_RADIUS_M * math.pi)
    assert great_circle_m(5, 5, 5, 5) == 0


def test_lengths_and_points_along_a_bent_line() -> None:
    line = [[0.0, 0.0], [0.0, 0.01], [0.01, 0.01]]
    leg = EARTH_RADIUS_M * math.radians(0.01)
    assert polyline_length_m(line) == pytest.approx(2 * leg, rel=1e-6)
    lon, lat = point_along(line, leg / 2)
    assert (lon, lat) == pytest.approx((0.0, 0.005), abs=1e-9)
    lon, lat = point_along(line, leg * 1.5)
    assert (lon, lat) == pytest.approx((0.005, 0.01), abs=1e-6)
    assert point_along(line, 10 * leg) == (0.01, 0.01)  # clamped to the end
    assert point_along(line, -5) == (0.0, 0.0)


@dataclass(frozen=True)
class Seg:
    id: str
    from_node: str
    to_node: str


def test_links_from_nodes_leave_out_the_u_turn() -> None:
    a_b, b_a = Seg("A-B", "A", "B"), Seg("B-A", "B", "A")
    b_c, c_b, d_b = Seg("B-C", "B", "C"), Seg("C-B", "C", "B"), Seg("D-B", "D", "B")
    others = [a_b, b_a, b_c, c_b, d_b]
    assert derived_links(a_b, others) == ([], ["B-C"])  # B-A ends at A but is the U-turn
    assert derived_links(b_c, others) == (["A-B", "D-B"], [])
    assert derived_links(Seg("X-Y", "X", "Y"), others) == ([], [])


@pytest.mark.parametrize(
    ("edge_type", "priority", "expected"),
    [
        ("highway.primary", 12, "primary"),
        ("highway.motorway_link", 9, "motorway"),
        ("highway.residential", 4, "residential"),
        ("", 14, "motorway"),
        ("", 10, "arterial"),
        ("", 7, "collector"),
        ("", 1, "local"),
        ("1", 11, "arterial"),  # a type id that is no class word
    ],
)
def test_road_class_of_a_sumo_edge(edge_type: str, priority: int, expected: str) -> None:
    assert _road_class(edge_type, priority) == expected
