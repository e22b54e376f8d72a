"""Missing data: a key that stops arriving while its device goes on sending other keys.

Parameters:
- `max_gap_s` (> 0): how long the key may be absent, measured in the device's own time
  (the newest point of each batch it sends), before the alarm is raised.

Evaluated on every batch of the device, with or without the key; the alarm clears when the
key arrives again. A device that sends nothing at all is the device-offline case, which
this rule cannot see (no batches come): the telemetry service reports device status.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from roadwatch.analytics.aggregate import F64, I64
from roadwatch.analytics.rules.base import Evaluation, Params, RuleKind, Transition


class MissingDataParams(Params):
    max_gap_s: float = Field(gt=0)


def evaluate(
    p: MissingDataParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int
) -> Evaluation:
    was_active = bool(state.get("active", False))
    # the key's last point, or when the rule first saw the device (a key never sent)
    last = int(state.get("last_key_ts", now_ts))
    out: list[Transition] = []
    if ts.size:
        if was_active:
            out.append(Transition("clear", int(ts[0]), float(values[0])))
        last = max(last, int(ts.max()))
        active = False
    else:
        active = now_ts - last > p.max_gap_s * 1000
        if active and not was_active:
            out.append(Transition("raise", now_ts, None))
    return Evaluation(
        out,
        {"last_key_ts": last, "active": active},
        active,
        {"last_key_ts": last, "gap_s": max(0, now_ts - last) / 1000},
    )


KIND = RuleKind("missing_data", MissingDataParams, evaluate, on_every_batch=True)
