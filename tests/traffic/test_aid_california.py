"""California #7 and #8 on hand-computed sequences (motorway thresholds: T1 = 8 %,
T2 = 0.5, T3 = 20 %, #8's wave T5 = -0.5 with T4 = 20 %, 5 minutes of suppression)."""

from __future__ import annotations

import json

import pytest

from roadwatch.traffic.aid import DEFAULTS, Phase
from roadwatch.traffic.aid.california7 import California7
from roadwatch.traffic.aid.california8 import California8
from tests.traffic.aid_sequences import C, K, T, phases, run_occupancy, station

MOTORWAY = DEFAULTS["motorway"]

# a lane blocked between the stations: the queue covers the upstream loop, the downstream
# one is starved; the blockage is removed at minute 5
INCIDENT: list[tuple[float | None, float | None]] = [
    (10, 10),
    (10, 10),
    (25, 8),  # OCCDF 17, OCCRDF 0.68, DOCC 8: onset
    (30, 6),  # OCCRDF 0.8 persists: confirmed
    (32, 5),
    (12, 11),  # OCCRDF 0.08: cleared
    (10, 10),
]


@pytest.mark.parametrize("kind", [California7, California8])
def test_an_incident_is_tentative_at_onset_confirmed_a_minute_later_and_clears(kind: type) -> None:
    verdicts = run_occupancy(kind(MOTORWAY), INCIDENT)
    assert phases(verdicts) == [C, C, T, K, K, C, C]
    onset = verdicts[2].evidence
    assert onset["occdf_pct"] == 17 and onset["occrdf"] == pytest.approx(0.68)
    assert onset["docc_pct"] == 8


def test_confidence_grows_with_the_margin_and_the_persistence() -> None:
    verdicts = run_occupancy(California7(MOTORWAY), INCIDENT)
    # tentative: OCCDF/T1 = 2.1 (counted as 2), OCCRDF/T2 = 1.36 -> 0.5 + 0.5 * 0.68,
    # halved while half-way to confirmation
    assert verdicts[2].confidence == pytest.approx(0.42)
    # confirmed: OCCDF/T1 = 3 (2), OCCRDF/T2 = 1.6 -> 0.5 + 0.5 * 0.8
    assert verdicts[3].confidence == pytest.approx(0.9)
    assert verdicts[5].confidence == 0


@pytest.mark.parametrize("kind", [California7, California8])
def test_a_one_minute_blip_is_dropped_without_confirmation(kind: type) -> None:
    verdicts = run_occupancy(kind(MOTORWAY), [(10, 10), (25, 8), (11, 10), (10, 10)])
    assert phases(verdicts) == [C, T, C, C]


@pytest.mark.parametrize("kind", [California7, California8])
def test_recurrent_congestion_does_not_trigger(kind: type) -> None:
    # the peak loads both stations; then a queue from a bottleneck further downstream
    # spills back over both (upstream fuller, but DOCC far above T3)
    readings: list[tuple[float | None, float | None]] = [
        (10, 10),
        (20, 22),
        (35, 40),
        (45, 50),
        (60, 30),  # OCCDF 30, OCCRDF 0.5, but DOCC 30 >= 20 and not emptying
        (62, 31),
        (60, 30),
    ]
    assert phases(run_occupancy(kind(MOTORWAY), readings)) == [C] * 7


# a compression wave: downstream occupancy jumps (minute 2), then the wave moves onto the
# upstream station and leaves the downstream one light (minutes 3-4)
WAVE: list[tuple[float | None, float | None]] = [
    (10, 10),
    (10, 10),
    (10, 30),  # DOCCTD = (10 - 30) / 10 = -2 <= -0.5 and DOCC 30 >= 20: a wave
    (35, 12),  # looks like an incident to #7
    (30, 10),
    (12, 10),
]


def test_a_compression_wave_is_a_false_alarm_for_7() -> None:
    assert phases(run_occupancy(California7(MOTORWAY), WAVE)) == [C, C, C, T, K, C]


def test_a_compression_wave_does_not_trigger_8() -> None:
    verdicts = run_occupancy(California8(MOTORWAY), WAVE)
    assert phases(verdicts) == [C] * 6
    assert verdicts[2].evidence["compression_wave"] == 1
    assert verdicts[3].evidence["suppressed_intervals"] == 4


def test_8_detects_again_once_the_suppression_is_over() -> None:
    algorithm = California8(MOTORWAY)
    run_occupancy(algorithm, WAVE)  # wave at minute 2: minutes 2..6 suppressed
    later = run_occupancy(algorithm, [(10, 10), (25, 8), (30, 6)], start=6)
    assert phases(later) == [C, T, K]


def test_8_catches_an_incident_whose_downstream_station_is_still_busy_but_emptying() -> None:
    # DOCC 22 >= T3, so #7 stays quiet; DOCCTD = (30 - 22) / 30 = 0.27 >= 0.15
    readings: list[tuple[float | None, float | None]] = [(30, 30), (30, 30), (50, 22), (52, 18)]
    assert phases(run_occupancy(California8(MOTORWAY), readings)) == [C, C, T, K]
    assert phases(run_occupancy(California7(MOTORWAY), readings)) == [C, C, C, T]


@pytest.mark.parametrize("kind", [California7, California8])
def test_missing_data_neither_triggers_nor_clears(kind: type) -> None:
    readings: list[tuple[float | None, float | None]] = [
        (10, 10),
        (25, 8),  # tentative
        (None, 6),  # held: still tentative, not dropped
        (30, 6),  # confirmed
        (30, None),  # held: still confirmed
        (None, None),
        (12, 11),  # cleared
    ]
    verdicts = run_occupancy(kind(MOTORWAY), readings)
    assert phases(verdicts) == [C, T, T, K, K, K, C]
    assert [v.held for v in verdicts] == [False, False, True, False, True, True, False]


def test_an_interval_already_seen_is_ignored() -> None:
    algorithm = California7(MOTORWAY)
    run_occupancy(algorithm, [(10, 10), (25, 8)])
    # the same minute again (late data republished), with incident-free numbers
    again = algorithm.step(station(1, occupancy=10), station(1, occupancy=10))
    assert again.held and again.phase is Phase.TENTATIVE
    later = algorithm.step(station(2, occupancy=30), station(2, occupancy=6))
    assert later.phase is Phase.CONFIRMED


@pytest.mark.parametrize("kind", [California7, California8])
def test_a_restored_algorithm_continues_where_it_stopped(kind: type) -> None:
    first = kind(MOTORWAY)
    run_occupancy(first, WAVE[:3] + INCIDENT[2:3])
    saved = json.loads(json.dumps(first.snapshot()))
    second = kind(MOTORWAY)
    second.restore(saved)
    rest = run_occupancy(second, INCIDENT[3:], start=4)
    expected = run_occupancy(first, INCIDENT[3:], start=4)
    assert phases(rest) == phases(expected)
    assert [v.evidence for v in rest] == [v.evidence for v in expected]
