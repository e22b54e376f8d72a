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


def evaluate(
    p: ThresholdParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int
) -> Evaluation:
    if p.operator == "above":
        enter, leave = values > p.threshold, values < p.threshold - p.hysteresis
    else:
        enter, leave = values < p.threshold, values > p.threshold + p.hysteresis
    in_run_before = bool(state.get("in_run", False))
    was_active = bool(state.get("active", False))
    # inside a run from a point that enters until one that leaves (hysteresis holds between)
    in_run = forward_fill(enter | leave, enter, in_run_before).astype(bool)
    # each run's start: the first point of it, or the carried start for a run going on
    starts_here = in_run & ~np.concatenate(([in_run_before], in_run[:-1]))
    carried_start = state.get("run_start_ts", int(ts[0]) if ts.size else 0)
    run_start = forward_fill(starts_here, ts, carried_start).astype(np.int64)
    # within a run ts - run_start only grows: once raised, the alarm holds to the run's end
    active = in_run & (ts - run_start >= int(p.min_duration_s * 1000))
    now_active = bool(active[-1]) if ts.size else was_active
    new_state: dict[str, Any] = {
        "in_run": bool(in_run[-1]) if ts.size else in_run_before,
        "active": now_active,
    }
    if new_state["in_run"]:
        new_state["run_start_ts"] = int(run_start[-1]) if ts.size else carried_start
    details = {"threshold": p.threshold, "operator": p.operator}
    if ts.size:
        details["value"] = float(values[-1])
    return Evaluation(transitions(ts, values, active, was_active), new_state, now_active, details)


KIND = RuleKind("threshold", ThresholdParams, evaluate)
