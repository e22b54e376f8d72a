"""Detector health rules (PeMS diagnostics, daily and rolling), each on its own."""

from __future__ import annotations

from roadwatch.traffic.measures.health import (
    Health,
    HealthThresholds,
    Sample,
    diagnose_day,
    diagnose_recent,
)

MIN = 60_000


def day(values: list[tuple[float | None, float | None]], start: int = 0) -> list[Sample]:
    """Minute samples (count, occupancy %) from `start`."""
    return [
        Sample(ts=start + (i + 1) * MIN, count=c, occupancy_pct=o, lanes=2)
        for i, (c, o) in enumerate(values)
    ]


def varied(n: int) -> list[tuple[float | None, float | None]]:
    # a healthy detector: counts and occupancy vary from minute to minute
    return [(10 + i % 7, 5.0 + (i % 11) / 10) for i in range(n)]


def test_a_varied_full_day_is_good() -> None:
    d = diagnose_day(day(varied(100)), expected=100)
    assert d.status is Health.GOOD
    assert d.healthy


def test_no_samples_is_no_data() -> None:
    assert diagnose_day([], expected=100).status is Health.NO_DATA


def test_under_60_percent_of_expected_is_insufficient_data() -> None:
    assert diagnose_day(day(varied(59)), expected=100).status is Health.INSUFFICIENT_DATA
    assert diagnose_day(day(varied(60)), expected=100).status is Health.GOOD


def test_more_than_half_zero_occupancy_is_card_off() -> None:
    # 51 of 100 expected samples read occupancy 0
    values = [(0.0, 0.0)] * 51 + varied(49)
    assert diagnose_day(day(values), expected=100).status is Health.CARD_OFF
    values = [(0.0, 0.0)] * 50 + varied(50)
    assert diagnose_day(day(values), expected=100).status is Health.GOOD


def test_more_than_a_fifth_high_values_is_high_value() -> None:
    # 21 samples with occupancy 75 % (> 70 %)
    values = [(5.0, 75.0 + i % 3) for i in range(21)] + varied(79)
    assert diagnose_day(day(values), expected=100).status is Health.HIGH_VALUE
    # flow too: 60 vehicles a minute over 2 lanes = 1800 veh/h/lane is fine, 110 = 3300 is not
    values = [(110.0 + i % 3, 20.0 + i % 5) for i in range(21)] + varied(79)
    assert diagnose_day(day(values), expected=100).status is Health.HIGH_VALUE


def test_zero_count_with_occupancy_more_than_a_fifth_is_intermittent() -> None:
    values = [(0.0, 3.0 + i % 4) for i in range(21)] + varied(79)
    assert diagnose_day(day(values), expected=100).status is Health.INTERMITTENT


def test_occupancy_unchanged_for_four_hours_is_constant() -> None:
    # 240 minutes of exactly 12.5 %, then variation: 4 h of constant occupancy
    values = [(10.0 + i % 5, 12.5) for i in range(240)] + varied(60)
    assert diagnose_day(day(values), expected=300).status is Health.CONSTANT
    values = [(10.0 + i % 5, 12.5) for i in range(239)] + varied(61)
    assert diagnose_day(day(values), expected=300).status is Health.GOOD


def test_first_failing_test_wins_in_pems_order() -> None:
    # both card off and intermittent: card off is tested first
    values = [(0.0, 0.0)] * 60 + [(0.0, 4.0 + i % 3) for i in range(40)]
    assert diagnose_day(day(values), expected=100).status is Health.CARD_OFF


def test_rolling_identical_repeated_readings_are_stuck() -> None:
    good = day(varied(10))
    stuck = [Sample(ts=good[-1].ts + (i + 1) * MIN, count=13, occupancy_pct=6.2) for i in range(6)]
    assert diagnose_recent(good) is Health.GOOD
    # five identical readings can happen on a quiet road; six are a frozen controller
    assert diagnose_recent(good + stuck[:5]) is Health.GOOD
    assert diagnose_recent(good + stuck) is Health.STUCK


def test_a_standing_queue_is_congestion_not_a_stuck_detector() -> None:
    good = day(varied(10))
    # no vehicle passes, the loop is covered all minute: the same reading every minute
    queue = [
        Sample(ts=good[-1].ts + (i + 1) * MIN, count=0, occupancy_pct=100.0) for i in range(30)
    ]
    assert diagnose_recent(good + queue[:6]) is Health.GOOD
    assert diagnose_recent(good + queue[:29]) is Health.GOOD
    # half an hour without a vehicle moving over it: a loop stuck "on"
    assert diagnose_recent(good + queue) is Health.STUCK


def test_rolling_zeros_are_card_off_only_while_neighbours_carry_traffic() -> None:
    zeros = day([(0.0, 0.0)] * 5)
    assert diagnose_recent(zeros, neighbour_flow_vphpl=600) is Health.CARD_OFF
    # a quiet night: the neighbours are empty too
    assert diagnose_recent(zeros, neighbour_flow_vphpl=20) is Health.GOOD
    assert diagnose_recent(zeros) is Health.GOOD


def test_rolling_implausible_latest_value_is_high_value() -> None:
    assert diagnose_recent(day([(10.0, 130.0)])) is Health.HIGH_VALUE
    # 3600 veh/h/lane on 2 lanes: 120 vehicles in a minute
    assert diagnose_recent(day([(120.0, 30.0)])) is Health.HIGH_VALUE


def test_rolling_thresholds_are_configurable() -> None:
    thresholds = HealthThresholds(stuck_samples=3)
    good = day(varied(5))
    stuck = [Sample(ts=good[-1].ts + (i + 1) * MIN, count=13, occupancy_pct=6.2) for i in range(3)]
    assert diagnose_recent(good + stuck, thresholds=thresholds) is Health.STUCK
