"""Pairing stations along the topology, and placing a detection between them (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from roadwatch.traffic.detection.location import point_along
from roadwatch.traffic.detection.pairing import pairs_of, parse_interval
from tests.traffic.detections_state import segment, station


def payload(*segments: dict[str, Any]) -> dict[str, Any]:
    return {"interval_s": 60, "start_ts": 0, "end_ts": 60_000, "segments": list(segments)}


def test_stations_pair_along_their_segment_then_onto_every_exit() -> None:
    # J splits into K and L; K has two stations (listed out of order), L none of its own
    found = pairs_of(
        payload(
            segment("J", [station("j1", 300, 10)], [], ["K", "L", "M"]),
            segment("K", [station("k2", 900, 10), station("k1", 100, 10)], ["J"], []),
            segment("L", [station("l1", 50, 10)], ["J"], []),
            segment("M", [], ["J"], []),
        )
    )
    assert sorted(p.id for p in found) == ["j1>k1", "j1>l1", "k1>k2"]
    gaps = {p.id: p.gap_m for p in found}
    # J is 1000 m long: 700 m to its end, then 100 m / 50 m into K / L
    assert gaps == {"j1>k1": 800.0, "j1>l1": 750.0, "k1>k2": 800.0}


def test_the_midpoint_of_a_pair_across_a_node_lies_on_the_longer_side() -> None:
    pairs = {
        p.id: p
        for p in pairs_of(
            payload(
                segment("J", [station("j1", 900, 10)], [], ["K"]),
                segment("K", [station("k1", 500, 10)], ["J"], []),
            )
        )
    }
    # 100 m left on J, 500 m into K: half-way is 300 m from j1, 200 m into K
    assert pairs["j1>k1"].midpoint() == ("K", pytest.approx(200.0))


def test_unhealthy_or_imputed_stations_read_as_missing() -> None:
    (pair,) = pairs_of(
        payload(
            segment(
                "J",
                [station("j1", 100, 30, 40), station("j2", 900, 5, 90, imputed=True)],
                [],
                [],
            )
        )
    )
    assert pair.up.reading.occupancy_pct == 30 and pair.up.reading.speed_kmh == 40
    assert pair.down.reading.occupancy_pct is None and pair.down.reading.speed_kmh is None


def test_a_payload_out_of_shape_is_refused() -> None:
    with pytest.raises(KeyError):
        parse_interval({"interval_s": 60, "segments": []})
    with pytest.raises(ValueError):
        parse_interval({"interval_s": "a minute", "end_ts": 0})


def test_a_point_along_a_bent_segment() -> None:
    # two legs of equal length: east, then north
    geometry = [[12.0, 48.0], [12.01, 48.0], [12.01, 48.0067]]
    lon, lat = point_along(geometry, 750.0, 1000.0) or (0.0, 0.0)
    assert lon == pytest.approx(12.01)
    assert 48.0030 < lat < 48.0037
    assert point_along(geometry, 0.0, 1000.0) == (12.0, 48.0)
    assert point_along(geometry, 5000.0, 1000.0) == (12.01, 48.0067)
    assert point_along([], 10.0, 100.0) is None
