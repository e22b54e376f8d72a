"""The speed-drop (bottleneck) test on hand-computed sequences (motorway: upstream at most
64 km/h, downstream faster by 32 km/h, 3 minutes to confirm, 2 to clear)."""

from __future__ import annotations

import pytest

from roadwatch.traffic.aid import DEFAULTS
from roadwatch.traffic.aid.speed_drop import SpeedDrop
from tests.traffic.aid_sequences import C, K, T, phases, run_speed

MOTORWAY = DEFAULTS["motorway"]


def test_a_persistent_drop_is_confirmed_after_three_minutes_and_clears_after_two() -> None:
    verdicts = run_speed(
        SpeedDrop(MOTORWAY),
        [
            (100, 100),
            (50, 95),  # 45 km/h slower upstream: tentative
            (40, 95),
            (35, 90),  # third minute: confirmed
            (30, 90),
            (95, 100),  # one free minute: still confirmed
            (100, 100),  # second: cleared
        ],
    )
    assert phases(verdicts) == [C, T, T, K, K, K, C]
    assert verdicts[3].evidence["speed_diff_kmh"] == 55
    # confirmed: difference 55/32 = 1.719, slowness 64/35 = 1.829 -> 0.5 + 0.5 * 0.774,
    # scaled by the 0.8 cap of a bottleneck test
    assert verdicts[3].confidence == pytest.approx(0.8 * 0.887, abs=1e-3)


def test_a_short_slowdown_is_dropped() -> None:
    verdicts = run_speed(SpeedDrop(MOTORWAY), [(100, 100), (50, 95), (90, 95), (100, 100)])
    assert phases(verdicts) == [C, T, C, C]


def test_congestion_over_both_stations_does_not_trigger() -> None:
    verdicts = run_speed(SpeedDrop(MOTORWAY), [(80, 85), (40, 45), (30, 35), (20, 30), (25, 28)])
    assert phases(verdicts) == [C] * 5


def test_a_missing_speed_holds() -> None:
    verdicts = run_speed(
        SpeedDrop(MOTORWAY), [(50, 95), (None, 95), (40, 95), (35, 90), (30, None), (95, 100)]
    )
    assert phases(verdicts) == [T, T, T, K, K, K]
