"""Synthetic series with known anomalies, and a rule run over them batch by batch the way
the stream runs it (state carried as JSON between batches). Run as a script to print the
detection table of docs/analytics.md:

    .venv/bin/python -m tests.analytics.synthetic
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from roadwatch.analytics.rules import KINDS

T0 = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000  # a midnight, UTC
SECOND = 1000


@dataclass
class Scenario:
    kind: str
    params: dict[str, Any]
    ts: np.ndarray
    values: np.ndarray
    # [start, end) in ms of each injected anomaly; a raise inside one detects it
    anomalies: list[tuple[int, int]]
    description: str
    # for missing data: per batch, whether the watched key is in it (else only others)
    present: np.ndarray | None = None


@dataclass
class Score:
    detected: int
    total: int
    false_alarms: int

    @property
    def rate(self) -> float:
        return self.detected / self.total


def run(s: Scenario, seed: int = 0) -> Score:
    kind = KINDS[s.kind]
    params = kind.params.model_validate(s.params)
    rng = np.random.default_rng(seed)
    state: dict[str, Any] = {}
    raises: list[int] = []
    i = 0
    while i < s.ts.size:
        n = int(rng.integers(1, 50))
        ts, values = s.ts[i : i + n], s.values[i : i + n]
        if s.present is not None:
            keep = s.present[i : i + n]
            ts_key, values_key = ts[keep], values[keep]
        else:
            ts_key, values_key = ts, values
        result = kind.evaluate(params, ts_key, values_key, state, int(ts[-1]))
        raises += [t.ts for t in result.transitions if t.action == "raise"]
        state = json.loads(json.dumps(result.state))
        i += n
    hit = [any(a <= r < b for r in raises) for a, b in s.anomalies]
    false = [r for r in raises if not any(a <= r < b for a, b in s.anomalies)]
    return Score(sum(hit), len(s.anomalies), len(false))


def _episodes(rng: np.random.Generator, n: int, count: int, length: int) -> list[int]:
    """Start indexes of `count` non-overlapping episodes of `length`, well apart."""
    slots = np.sort(rng.choice(np.arange(2, n // (length * 4) - 1), count, replace=False))
    return [int(s) * length * 4 for s in slots]


def threshold() -> Scenario:
    rng = np.random.default_rng(1)
    n = 20_000
    ts = T0 + np.arange(n) * SECOND
    values = rng.normal(60, 5, n)
    anomalies = []
    starts = _episodes(rng, n, 20, 40)
    for k, start in enumerate(starts):
        if k % 2 == 0:  # a real episode: 30 s over the limit
            values[start : start + 30] = rng.normal(115, 3, 30)
            anomalies.append((int(ts[start]), int(ts[start + 30])))
        else:  # a blip shorter than min_duration: must not raise
            values[start : start + 2] = 112
    return Scenario(
        "threshold",
        {"operator": "above", "threshold": 100, "hysteresis": 10, "min_duration_s": 5},
        ts,
        values,
        anomalies,
        "1 Hz, N(60, 5); 10 episodes of 30 s at ~115; 10 blips of 2 s at 112 (too short)",
    )


def zscore() -> Scenario:
    rng = np.random.default_rng(2)
    n = 20_000
    ts = T0 + np.arange(n) * SECOND
    values = rng.normal(50, 2, n)
    anomalies = []
    for start in _episodes(rng, n, 20, 100):
        values[start] += rng.choice([-1, 1]) * 14
        anomalies.append((int(ts[start]), int(ts[start]) + SECOND))
    return Scenario(
        "zscore",
        {"window": 120, "threshold": 5, "min_points": 30},
        ts,
        values,
        anomalies,
        "1 Hz, N(50, 2); 20 single-point spikes of ±14 (7 sigma)",
    )


def ewma() -> Scenario:
    rng = np.random.default_rng(3)
    n = 20_000
    ts = T0 + np.arange(n) * SECOND
    values = rng.normal(50, 2, n)
    anomalies = []
    for start in _episodes(rng, n, 20, 60):
        values[start : start + 20] += 12
        # the return to the old level 20 s later is a change of its own: part of the episode
        anomalies.append((int(ts[start]), int(ts[start + 40])))
    return Scenario(
        "ewma",
        {"alpha": 0.02, "limit": 5, "warmup": 60},
        ts,
        values,
        anomalies,
        "1 Hz, N(50, 2); 20 level shifts of +12 lasting 20 s "
        "(a raise at the shift or at the return counts)",
    )


def rate_of_change() -> Scenario:
    rng = np.random.default_rng(4)
    n = 20_000
    ts = T0 + np.arange(n) * SECOND
    values = 50 + 10 * np.sin(np.arange(n) / 300) + rng.normal(0, 0.5, n)
    anomalies = []
    for start in _episodes(rng, n, 20, 60):
        values[start:] += 20 * (1 if start % 2 else -1)
        anomalies.append((int(ts[start]), int(ts[start]) + SECOND))
    return Scenario(
        "rate_of_change",
        {"max_rate_per_s": 6},
        ts,
        values,
        anomalies,
        "1 Hz, slow sine ±10 + N(0, 0.5); 20 steps of ±20 within one second",
    )


def seasonal() -> Scenario:
    rng = np.random.default_rng(5)
    step = 5 * 60 * SECOND
    n = 14 * 288  # 14 days of 5-minute readings
    ts = T0 + np.arange(n) * step
    phase = 2 * np.pi * (ts % 86_400_000) / 86_400_000
    values = 50 + 30 * np.sin(phase) + rng.normal(0, 2, n)
    anomalies = []
    # in the second week: rush-hour-like values at the wrong time of day (in range overall)
    for start in rng.choice(np.arange(7 * 288, n - 4, 12), 20, replace=False):
        start = int(start)
        values[start] = 50 - 30 * np.sin(phase[start])
        if abs(values[start] - (50 + 30 * np.sin(phase[start]))) > 20:
            anomalies.append((int(ts[start]), int(ts[start]) + step))
    return Scenario(
        "seasonal",
        {"period": "day", "slot_minutes": 30, "threshold": 5, "min_samples": 24},
        ts,
        values,
        anomalies,
        "every 5 min for 14 days, daily sine ±30 + N(0, 2); in week 2, values of the "
        "opposite time of day (within the overall range, so no fixed threshold sees them)",
    )


def missing_data() -> Scenario:
    rng = np.random.default_rng(6)
    n = 10_000
    ts = T0 + np.arange(n) * 10 * SECOND
    values = rng.normal(20, 1, n)
    present = np.ones(n, dtype=bool)
    anomalies = []
    for start in _episodes(rng, n, 10, 30):
        present[start : start + 30] = False  # 5 minutes without the key
        # raised once the gap passes max_gap_s: 2 minutes in
        anomalies.append((int(ts[start]), int(ts[start + 30])))
    return Scenario(
        "missing_data",
        {"max_gap_s": 120},
        ts,
        values,
        anomalies,
        "a reading every 10 s; the key absent 10 times for 5 min while the device goes on",
        present=present,
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "threshold": threshold,
    "zscore": zscore,
    "ewma": ewma,
    "rate_of_change": rate_of_change,
    "seasonal": seasonal,
    "missing_data": missing_data,
}


if __name__ == "__main__":
    print("| rule | series | params | detected | false alarms |")
    print("|---|---|---|---|---|")
    for name, make in SCENARIOS.items():
        scenario = make()
        score = run(scenario)
        print(
            f"| `{name}` | {scenario.description} | `{json.dumps(scenario.params)}` | "
            f"{score.detected}/{score.total} ({score.rate:.0%}) | {score.false_alarms} |"
        )
