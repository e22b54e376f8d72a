"""Anomaly rules, one file per kind: pure functions over NumPy arrays and a carried state.

Each kind has a params model (documented parameters, checked on the rules API) and an
`evaluate(params, ts, values, state, now_ts) -> Evaluation`. `KINDS` is the registry.
"""

from __future__ import annotations

from roadwatch.analytics.rules import (
    device_offline,
    ewma,
    missing_data,
    rate_of_change,
    seasonal,
    threshold,
    zscore,
)
from roadwatch.analytics.rules.base import Evaluation, RuleKind, Transition

KINDS: dict[str, RuleKind] = {
    kind.name: kind
    for kind in (
        threshold.KIND,
        zscore.KIND,
        ewma.KIND,
        rate_of_change.KIND,
        seasonal.KIND,
        missing_data.KIND,
        device_offline.KIND,
    )
}

__all__ = ["KINDS", "Evaluation", "RuleKind", "Transition"]
