"""Threshold: a value above (or below) a limit, with hysteresis and a minimum duration.

Parameters:
- `operator`: "above" or "below".
- `threshold`: the limit; "above" means value > threshold, "below" value < threshold.
- `hysteresis` (>= 0, default 0): once over the limit, the condition holds until the value
  is back past threshold - hysteresis ("above") or threshold + hysteresis ("below"), so a
  value hovering at the limit does not raise and clear over and over.
- `min_duration_s` (>= 0, default 0): the condition must hold this long (from the first
  point over the limit to a later point still within it) before the alarm is raised.

The alarm clears at the first point back past the hysteresis band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from roadwatch.analytics.aggregate import F64, I64
from roadwatch.analytics.rules.base import (
    Evaluation,
    Params,
    RuleKind,
    forward_fill,
    transitions,
)


class ThresholdParams(Params):
    operator: Literal["above", "below"]
    threshold: float
    hysteresis: float = Field(0.0, ge=0)
    min_duration_s: float = Field(0.0, ge=0)


@dataclass
class SegmentsResult:
    """Per point: whether the alarm condition holds; per segment: the state to carry."""

    active: np.ndarray
    in_run: np.ndarray
    run_start: I64


def evaluate_segments(
    p: ThresholdParams,
    first: np.ndarray,
    ts: I64,
    values: F64,
    in_run_before: np.ndarray,
    run_start_before: I64,
) -> SegmentsResult:
    """The rule over many series at once (one per device, say), vectorised across all.

    Points are sorted by (series, ts); `first` marks each series' first point, and the
    `*_before` arrays hold, at those points, the state carried from the series' previous
    batch (ignored elsewhere). The evaluation of one device's batch is the one-segment case.
    """
    if p.operator == "above":
        enter, leave = values > p.threshold, values < p.threshold - p.hysteresis
    else:
        enter, leave = values < p.threshold, values > p.threshold + p.hysteresis
    event = enter | leave
    # inside a run from a point that enters until one that leaves (hysteresis holds between);
    # a series' first point without an event of its own continues the carried state
    in_run = forward_fill(event | first, np.where(event, enter, in_run_before), False).astype(bool)
    previous = np.empty_like(in_run)
    previous[1:] = in_run[:-1]
    previous[first] = in_run_before[first]
    starts_here = in_run & ~previous
    run_start = forward_fill(
        starts_here | first, np.where(starts_here, ts, run_start_before), 0
    ).astype(np.int64)
    # within a run ts - run_start only grows: once raised, the alarm holds to the run's end
    active = in_run & (ts - run_start >= int(p.min_duration_s * 1000))
    return SegmentsResult(active, in_run, run_start)


def evaluate(
    p: ThresholdParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int
) -> Evaluation:
    was_active = bool(state.get("active", False))
    if ts.size == 0:
        return Evaluation([], state, was_active)
    first = np.zeros(ts.size, dtype=bool)
    first[0] = True
    carried_in_run = bool(state.get("in_run", False))
    result = evaluate_segments(
        p,
        first,
        ts,
        values,
        np.full(ts.size, carried_in_run),
        np.full(ts.size, int(state.get("run_start_ts", ts[0])), dtype=np.int64),
    )
    now_active = bool(result.active[-1])
    new_state: dict[str, Any] = {"in_run": bool(result.in_run[-1]), "active": now_active}
    if new_state["in_run"]:
        new_state["run_start_ts"] = int(result.run_start[-1])
    details = {"threshold": p.threshold, "operator": p.operator, "value": float(values[-1])}
    return Evaluation(
        transitions(ts, values, result.active, was_active), new_state, now_active, details
    )


KIND = RuleKind("threshold", ThresholdParams, evaluate)
