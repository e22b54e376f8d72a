"""Each rule kind on synthetic series with known anomalies (tests/analytics/synthetic.py),
run in random batches with its state carried as JSON, as the stream runs it; and the
behaviours their parameters promise, point by point."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from roadwatch.analytics.rules import KINDS
from tests.analytics.synthetic import SCENARIOS, run

# (minimum detection rate, most false alarms) on each kind's series
EXPECTED = {
    "threshold": (1.0, 0),
    "zscore": (0.9, 0),
    "ewma": (0.9, 0),
    "rate_of_change": (1.0, 0),
    "seasonal": (0.9, 5),
    "missing_data": (1.0, 0),
}


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
@pytest.mark.parametrize("seed", [0, 1])
def test_each_rule_finds_the_known_anomalies_of_its_series(kind: str, seed: int) -> None:
    score = run(SCENARIOS[kind](), seed=seed)
    min_rate, max_false = EXPECTED[kind]
    assert score.rate >= min_rate, score
    assert score.false_alarms <= max_false, score


def evaluate(
    kind: str, params: dict[str, Any], batches: list[list[tuple[int, float]]]
) -> list[Any]:
    """All transitions over the batches, the state carried between them."""
    rule = KINDS[kind]
    p = rule.params.model_validate(params)
    state: dict[str, Any] = {}
    out = []
    for batch in batches:
        ts = np.array([t for t, _ in batch], np.int64)
        values = np.array([v for _, v in batch], np.float64)
        result = rule.evaluate(p, ts, values, state, int(ts[-1]) if ts.size else 0)
        out += [(t.action, t.ts) for t in result.transitions]
        state = result.state
    return out


def test_threshold_hysteresis_keeps_one_alarm_for_a_value_hovering_at_the_limit() -> None:
    params = {"operator": "above", "threshold": 100, "hysteresis": 5}
    values = [90, 101, 99, 102, 97, 101, 94, 101]
    series = [(i * 1000, float(v)) for i, v in enumerate(values)]
    assert evaluate("threshold", params, [series]) == [
        ("raise", 1000),
        ("clear", 6000),
        ("raise", 7000),
    ]
    without = evaluate("threshold", {**params, "hysteresis": 0}, [series])
    assert len(without) == 7


def test_threshold_minimum_duration_counts_across_batches() -> None:
    params = {"operator": "below", "threshold": 10, "min_duration_s": 3}
    points = [(0, 12.0), (1000, 8.0), (2000, 7.0), (3000, 9.0), (4000, 6.0), (5000, 11.0)]
    one_by_one = evaluate("threshold", params, [[p] for p in points])
    assert one_by_one == [("raise", 4000), ("clear", 5000)]
    assert evaluate("threshold", params, [points]) == one_by_one


def test_missing_data_raises_when_the_key_stops_and_clears_when_it_returns() -> None:
    params = {"max_gap_s": 60}
    rule = KINDS["missing_data"]
    p = rule.params.model_validate(params)
    state: dict[str, Any] = {}
    seen = []
    # the key at 0 and 30 s; then batches of other keys only (empty for this key) at 60..150 s
    for ts, now in [([0], 0), ([30_000], 30_000), ([], 60_000), ([], 120_000), ([], 150_000)]:
        t = np.array(ts, np.int64)
        result = rule.evaluate(p, t, np.ones(t.size), state, now)
        seen += [(x.action, x.ts) for x in result.transitions]
        state = result.state
    assert seen == [("raise", 90_000)]
    result = rule.evaluate(p, np.array([160_000]), np.ones(1), state, 160_000)
    assert [(x.action, x.ts) for x in result.transitions] == [("clear", 160_000)]


def test_rate_of_change_sees_a_jump_between_two_batches() -> None:
    params = {"max_rate_per_s": 2, "direction": "up"}
    assert evaluate("rate_of_change", params, [[(0, 10.0), (1000, 11.0)], [(2000, 20.0)]]) == [
        ("raise", 2000)
    ]
    assert evaluate("rate_of_change", params, [[(0, 20.0)], [(1000, 10.0)]]) == []
