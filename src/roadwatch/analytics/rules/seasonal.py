"""Seasonal baseline: a point far from what is normal for the same time of day (or the same
time of the week), learnt from the key's own history.

Parameters:
- `period` ("day" or "week", default "day"): compare with the same slot of each day, or of
  each week (Monday 00:00 starts a week).
- `slot_minutes` (divides 1440, default 15): the width of a slot.
- `threshold` (> 0, default 3.0): |value - slot mean| / slot stddev above which a point is
  anomalous.
- `min_samples` (>= 2, default 20): no verdict for a slot holding fewer points.
- `utc_offset_minutes` (default 0): the local time the slots follow.

Each slot keeps count, mean and M2 of every point seen in it (Chan's merge per batch, with
np.bincount); a batch is judged against the baseline as it was before the batch.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator

from roadwatch.analytics.aggregate import F64, I64
from roadwatch.analytics.rules.base import Evaluation, Params, RuleKind, transitions

DAY_MINUTES = 1440


class SeasonalParams(Params):
    period: Literal["day", "week"] = "day"
    slot_minutes: int = Field(15, ge=1, le=DAY_MINUTES)
    threshold: float = Field(3.0, gt=0)
    min_samples: int = Field(20, ge=2)
    utc_offset_minutes: int = Field(0, ge=-14 * 60, le=14 * 60)

    @field_validator("slot_minutes")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        if DAY_MINUTES % value:
            raise ValueError("must divide 1440 (the minutes of a day)")
        return value


def slots(p: SeasonalParams, ts: I64) -> tuple[I64, int]:
    minutes = ts // 60_000 + p.utc_offset_minutes
    per_day = DAY_MINUTES // p.slot_minutes
    slot = (minutes % DAY_MINUTES) // p.slot_minutes
    if p.period == "week":
        # 1970-01-01 was a Thursday: shift so that 0 is Monday
        weekday = (minutes // DAY_MINUTES + 3) % 7
        return weekday * per_day + slot, per_day * 7
    return slot, per_day


def evaluate(
    p: SeasonalParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int
) -> Evaluation:
    was_active = bool(state.get("active", False))
    if ts.size == 0:
        return Evaluation([], state, was_active)
    slot, size = slots(p, ts)
    n = np.asarray(state.get("n", [0] * size), dtype=np.float64)
    mean = np.asarray(state.get("mean", [0.0] * size), dtype=np.float64)
    m2 = np.asarray(state.get("m2", [0.0] * size), dtype=np.float64)
    if n.size != size:  # the period or slot width was changed: start learning again
        n, mean, m2 = np.zeros(size), np.zeros(size), np.zeros(size)
    std = np.sqrt(np.where(n > 0, m2 / np.maximum(n, 1), 0.0))
    distance = np.abs(values - mean[slot])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std[slot] > 0, distance / std[slot], np.where(distance > 0, np.inf, 0.0))
    active = (n[slot] >= p.min_samples) & (z > p.threshold)
    # merge the batch into each slot: count, mean and M2 of the batch's points per slot
    bn = np.bincount(slot, minlength=size).astype(np.float64)
    bsum = np.bincount(slot, weights=values, minlength=size)
    bmean = np.divide(bsum, bn, out=np.zeros(size), where=bn > 0)
    dev = values - bmean[slot]
    bm2 = np.bincount(slot, weights=dev * dev, minlength=size)
    total = n + bn
    delta = bmean - mean
    with np.errstate(divide="ignore", invalid="ignore"):
        new_mean = np.where(total > 0, mean + delta * bn / np.maximum(total, 1), 0.0)
        new_m2 = m2 + bm2 + delta * delta * n * bn / np.maximum(total, 1)
    now_active = bool(active[-1])
    return Evaluation(
        transitions(ts, values, active, was_active),
        {
            "n": total.tolist(),
            "mean": new_mean.tolist(),
            "m2": new_m2.tolist(),
            "active": now_active,
        },
        now_active,
        {
            "slot": int(slot[-1]),
            "expected": float(mean[slot[-1]]),
            "stddev": float(std[slot[-1]]),
            "value": float(values[-1]),
        },
    )


KIND = RuleKind("seasonal", SeasonalParams, evaluate)
