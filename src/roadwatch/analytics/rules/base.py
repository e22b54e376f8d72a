"""What every rule kind shares: its result, and turning a per-point "anomalous" mask into
the raise/clear transitions of its alarm."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from roadwatch.analytics.aggregate import F64, I64


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Transition:
    action: Literal["raise", "clear"]
    ts: int
    value: float | None


@dataclass
class Evaluation:
    transitions: list[Transition]
    # carried to the device's next batch (JSON-serialisable)
    state: dict[str, Any]
    # whether the condition holds after the batch
    active: bool
    details: dict[str, Any] = field(default_factory=dict)


# (params, ts, values, state, now_ts): now_ts is the newest point time of the device's batch
Evaluate = Callable[[Any, I64, F64, dict[str, Any], int], Evaluation]


@dataclass(frozen=True)
class RuleKind:
    name: str
    params: type[Params]
    evaluate: Evaluate
    # missing-data kinds are evaluated on batches that do not hold their key too
    on_every_batch: bool = False


def transitions(ts: I64, values: F64, active: np.ndarray, was_active: bool) -> list[Transition]:
    """The points where `active` switches, given it was `was_active` before the first."""
    if active.size == 0:
        return []
    previous = np.empty_like(active)
    previous[0] = was_active
    previous[1:] = active[:-1]
    changes = np.flatnonzero(active != previous)
    return [
        Transition("raise" if active[i] else "clear", int(ts[i]), float(values[i]))
        for i in changes.tolist()
    ]


def forward_fill(mask: np.ndarray, values: np.ndarray, initial: Any) -> np.ndarray:
    """values[i] at the last index <= i where mask is true; `initial` before the first."""
    index = np.where(mask, np.arange(mask.size), -1)
    np.maximum.accumulate(index, out=index)
    out = np.where(index >= 0, values[np.maximum(index, 0)], initial)
    return out


def linear_filter(u: F64, beta: float, y0: float) -> F64:
    """y[i] = beta * y[i-1] + u[i] with y[-1] = y0, vectorised in blocks short enough that
    beta**-k stays finite (the closed form y[i] = beta^(i+1) y0 + sum beta^(i-k) u[k])."""
    if beta <= 0.0:
        return u.copy()
    out = np.empty_like(u)
    block = int(min(4096, max(1, 300 / -np.log(beta)))) if beta < 1 else 4096
    powers = beta ** np.arange(block + 1, dtype=np.float64)
    previous = y0
    for start in range(0, u.size, block):
        chunk = u[start : start + block]
        n = chunk.size
        scaled = np.cumsum(chunk / powers[:n])
        out[start : start + n] = powers[1 : n + 1] * previous + powers[:n] * scaled
        previous = float(out[start + n - 1])
    return out
