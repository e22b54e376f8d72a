"""The standard normal deviate test on hand-computed sequences (window 10, critical 3.0,
clear below 1.5 for 2 minutes, sd floor 2 %, OCCDF at least 5 %)."""

from __future__ import annotations

import json

import pytest

from roadwatch.traffic.aid import DEFAULTS
from roadwatch.traffic.aid.snd import StandardNormalDeviate
from tests.traffic.aid_sequences import C, K, T, phases, run_occupancy

MOTORWAY = DEFAULTS["motorway"]

# ten quiet minutes: OCCDF alternates +1/-1 (mean 0, sd 1.05, floored to 2)
QUIET: list[tuple[float | None, float | None]] = [(11, 10), (10, 11)] * 5


def test_the_first_window_only_learns() -> None:
    verdicts = run_occupancy(StandardNormalDeviate(MOTORWAY), [*QUIET[:9], (40, 5)])
    assert phases(verdicts) == [C] * 10
    assert all(v.evidence["warming_up"] == 1 for v in verdicts)


def test_an_incident_is_tentative_then_confirmed_and_clears() -> None:
    algorithm = StandardNormalDeviate(MOTORWAY)
    run_occupancy(algorithm, QUIET)
    verdicts = run_occupancy(
        algorithm,
        [
            (20, 5),  # OCCDF 15: SND = 15 / 2 = 7.5 >= 3
            (26, 6),  # OCCDF 20: again: confirmed
            (11, 10),  # SND 0.5 < 1.5: first quiet minute
            (10, 11),  # second: cleared
            (11, 10),
        ],
        start=10,
    )
    assert phases(verdicts) == [T, K, K, C, C]
    assert verdicts[0].evidence["snd"] == pytest.approx(7.5)
    assert verdicts[0].evidence["baseline_mean_pct"] == 0


def test_the_incident_does_not_become_the_baseline() -> None:
    algorithm = StandardNormalDeviate(MOTORWAY)
    run_occupancy(algorithm, QUIET)
    during = run_occupancy(algorithm, [(20, 5)] * 8, start=10)
    assert phases(during)[-1] == K
    assert during[-1].evidence["baseline_mean_pct"] == 0


def test_a_small_difference_on_a_very_steady_pair_does_not_trigger() -> None:
    algorithm = StandardNormalDeviate(MOTORWAY)
    run_occupancy(algorithm, [(10, 10)] * 10)
    # OCCDF 4: SND 4 / 2 (floor) = 2 < 3
    assert phases(run_occupancy(algorithm, [(14, 10)] * 3, start=10)) == [C, C, C]


def test_recurrent_congestion_loading_both_stations_does_not_trigger() -> None:
    algorithm = StandardNormalDeviate(MOTORWAY)
    run_occupancy(algorithm, QUIET)
    peak = [(10.0 + 5 * i + (1 if i % 2 else 0), 10.0 + 5 * i) for i in range(10)]
    assert phases(run_occupancy(algorithm, list(peak), start=10)) == [C] * 10


def test_missing_data_holds_and_a_restart_resumes() -> None:
    algorithm = StandardNormalDeviate(MOTORWAY)
    run_occupancy(algorithm, [*QUIET, (20, 5)])
    held = run_occupancy(algorithm, [(None, 5)], start=11)
    assert phases(held) == [T] and held[0].held
    restored = StandardNormalDeviate(MOTORWAY)
    restored.restore(json.loads(json.dumps(algorithm.snapshot())))
    assert phases(run_occupancy(restored, [(26, 6)], start=12)) == [K]
