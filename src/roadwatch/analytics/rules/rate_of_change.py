"""Rate of change: the value moving faster than `max_rate_per_s` between consecutive points.

Parameters:
- `max_rate_per_s` (> 0): the largest normal change per second, (x[i] - x[i-1]) / dt.
- `direction` ("both", "up" or "down", default "both"): which way counts.

The alarm clears at the next point whose change is within the limit. The last point of a
batch is carried, so a jump between two batches counts too.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from roadwatch.analytics.aggregate import F64, I64
from roadwatch.analytics.rules.base import Evaluation, Params, RuleKind, transitions


class RateParams(Params):
    max_rate_per_s: float = Field(gt=0)
    direction: Literal["both", "up", "down"] = "both"


def evaluate(p: RateParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int) -> Evaluation:
    was_active = bool(state.get("active", False))
    if ts.size == 0:
        return Evaluation([], state, was_active)
    has_previous = "last_ts" in state
    prev_ts = np.concatenate(([state.get("last_ts", ts[0])], ts[:-1]))
    prev_v = np.concatenate(([state.get("last_value", values[0])], values[:-1]))
    dt = (ts - prev_ts) / 1000.0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(dt > 0, (values - prev_v) / dt, 0.0)
    if not has_previous:
        rate[0] = 0.0
    if p.direction == "up":
        active = rate > p.max_rate_per_s
    elif p.direction == "down":
        active = rate < -p.max_rate_per_s
    else:
        active = np.abs(rate) > p.max_rate_per_s
    now_active = bool(active[-1])
    return Evaluation(
        transitions(ts, values, active, was_active),
        {"last_ts": int(ts[-1]), "last_value": float(values[-1]), "active": now_active},
        now_active,
        {"rate_per_s": float(rate[-1]), "value": float(values[-1])},
    )


KIND = RuleKind("rate_of_change", RateParams, evaluate)
