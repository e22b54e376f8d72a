"""Missing data: a key that stops arriving while its device goes on sending other keys.

Parameters:
- `max_gap_s` (> 0): how long the key may be absent, measured in the device's own time
  (the newest point of each batch it sends), before the alarm is raised.

Evaluated on every batch of the device, with or without the key: a gap between the key's
points inside a batch counts as well as one running past the batch's newest point. The
alarm is raised at (last point of the key + max_gap_s) and clears when the key arrives.
A device that sends nothing at all is the device-offline case, which
this rule cannot see (no batches come): the telemetry service reports device status.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from roadwatch.analytics.aggregate import F64, I64
from roadwatch.analytics.rules.base import Evaluation, Params, RuleKind, Transition


class MissingDataParams(Params):
    max_gap_s: float = Field(gt=0)


def evaluate(
    p: MissingDataParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int
) -> Evaluation:
    was_active = bool(state.get("active", False))
    limit = int(p.max_gap_s * 1000)
    # the key's last point, or when the rule first saw the device (a key never sent)
    last = int(state.get("last_key_ts", now_ts if ts.size == 0 else ts[0]))
    out: list[Transition] = []
    active = was_active
    if ts.size:
        # gaps between the key's points (the batch shows the device was sending meanwhile)
        times = np.concatenate(([last], ts))
        for i in np.flatnonzero(np.diff(times) > limit).tolist():
            if not active:
                out.append(Transition("raise", int(times[i]) + limit, None))
            out.append(Transition("clear", int(ts[i]), float(values[i])))
            active = False
        if active:
            out.append(Transition("clear", int(ts[0]), float(values[0])))
            active = False
        last = max(last, int(ts.max()))
    if not active and now_ts - last > limit:
        # the device's newest point is past the gap allowed since the key's last one
        out.append(Transition("raise", last + limit, None))
        active = True
    return Evaluation(
        out,
        {"last_key_ts": last, "active": active},
        active,
        {"last_key_ts": last, "gap_s": max(0, now_ts - last) / 1000},
    )


KIND = RuleKind("missing_data", MissingDataParams, evaluate, on_every_batch=True)
