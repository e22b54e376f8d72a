"""EWMA control limits: a point outside mean ± L·sigma of the exponentially weighted moving
mean and variance of the points before it.

Parameters:
- `alpha` (0 < alpha <= 1, default 0.2): the weight of the newest point; smaller is a
  longer memory.
- `limit` (> 0, default 3.0): L, the width of the control band in sigmas.
- `warmup` (>= 1, default 10): no verdict before this many points have been seen.

mean[i] = mean[i-1] + alpha·d[i] and var[i] = (1-alpha)·(var[i-1] + alpha·d[i]²), with
d[i] = x[i] - mean[i-1]; both recursions run vectorised (base.linear_filter).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from roadwatch.analytics.aggregate import F64, I64
from roadwatch.analytics.rules.base import (
    Evaluation,
    Params,
    RuleKind,
    linear_filter,
    transitions,
)


class EwmaParams(Params):
    alpha: float = Field(0.2, gt=0, le=1)
    limit: float = Field(3.0, gt=0)
    warmup: int = Field(10, ge=1)


def evaluate(p: EwmaParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int) -> Evaluation:
    was_active = bool(state.get("active", False))
    if ts.size == 0:
        return Evaluation([], state, was_active)
    beta = 1.0 - p.alpha
    seen = int(state.get("n", 0))
    m0 = float(state["mean"]) if seen else float(values[0])
    v0 = float(state.get("var", 0.0)) if seen else 0.0
    mean = linear_filter(p.alpha * values, beta, m0)
    mean_before = np.concatenate(([m0], mean[:-1]))
    d = values - mean_before
    var = linear_filter(beta * p.alpha * d * d, beta, v0)
    var_before = np.concatenate(([v0], var[:-1]))
    sigma = np.sqrt(np.maximum(var_before, 0.0))
    count_before = seen + np.arange(ts.size)
    active = (count_before >= p.warmup) & (np.abs(d) > p.limit * sigma)
    now_active = bool(active[-1])
    return Evaluation(
        transitions(ts, values, active, was_active),
        {
            "n": seen + int(ts.size),
            "mean": float(mean[-1]),
            "var": float(var[-1]),
            "active": now_active,
        },
        now_active,
        {"mean": float(mean_before[-1]), "sigma": float(sigma[-1]), "value": float(values[-1])},
    )


KIND = RuleKind("ewma", EwmaParams, evaluate)
