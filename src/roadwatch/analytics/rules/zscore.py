"""Z-score against a rolling baseline: a point further than `threshold` standard deviations
from the mean of the `window` points before it.

Parameters:
- `window` (2..10000, default 60): how many preceding points form the baseline; carried
  from batch to batch, so the baseline spans batches.
- `threshold` (> 0, default 3.0): |value - mean| / stddev above which a point is anomalous.
- `min_points` (>= 2, default 10): no verdict until the baseline holds this many points.

Anomalous points stay in the baseline (a lasting shift becomes the new normal, and the
alarm clears by itself). A flat baseline (stddev 0) flags any different value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import Field

from roadwatch.analytics.aggregate import F64, I64
from roadwatch.analytics.rules.base import Evaluation, Params, RuleKind, transitions


class ZScoreParams(Params):
    window: int = Field(60, ge=2, le=10_000)
    threshold: float = Field(3.0, gt=0)
    min_points: int = Field(10, ge=2)


def zscores(history: F64, values: F64, window: int) -> tuple[F64, np.ndarray]:
    """Each value's |z| against the `window` values before it, and that baseline's size."""
    x = np.concatenate((np.full(window, np.nan), history, values))
    # row j: the `window` values before values[j]
    rows = sliding_window_view(x[:-1], window)[history.size :]
    present = ~np.isnan(rows)
    n = present.sum(axis=1)
    filled = np.where(present, rows, 0.0)
    mean = filled.sum(axis=1) / np.maximum(n, 1)
    deviation = np.where(present, rows - mean[:, None], 0.0)
    std = np.sqrt((deviation * deviation).sum(axis=1) / np.maximum(n, 1))
    distance = np.abs(values - mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, distance / std, np.where(distance > 0, np.inf, 0.0))
    return z, n


def evaluate(
    p: ZScoreParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int
) -> Evaluation:
    history = np.asarray(state.get("window", []), dtype=np.float64)[-p.window :]
    was_active = bool(state.get("active", False))
    if ts.size == 0:
        return Evaluation([], state, was_active)
    z, n = zscores(history, values, p.window)
    active = (n >= p.min_points) & (z > p.threshold)
    kept = np.concatenate((history, values))[-p.window :]
    now_active = bool(active[-1])
    details = {"z": float(z[-1]) if np.isfinite(z[-1]) else None, "value": float(values[-1])}
    return Evaluation(
        transitions(ts, values, active, was_active),
        {"window": kept.tolist(), "active": now_active},
        now_active,
        details,
    )


KIND = RuleKind("zscore", ZScoreParams, evaluate)
