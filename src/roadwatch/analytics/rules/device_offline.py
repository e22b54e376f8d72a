"""Device offline: the device has sent nothing for the telemetry service's inactivity
timeout (`ROADWATCH_TELEMETRY__INACTIVITY_TIMEOUT_S`, ThingsBoard's 10 minutes by default).

No parameters; the rule's `key` is not used. It is not evaluated on batches (a device that
sends is online): it follows telemetry's `telemetry.device.status_changed` events, raising
the alarm when the device goes offline (at its last activity) and clearing it when the
device is heard from again.
"""

from __future__ import annotations

from typing import Any

from roadwatch.analytics.aggregate import F64, I64
from roadwatch.analytics.rules.base import Evaluation, Params, RuleKind


class DeviceOfflineParams(Params):
    pass


def evaluate(
    p: DeviceOfflineParams, ts: I64, values: F64, state: dict[str, Any], now_ts: int
) -> Evaluation:
    # batches say nothing this rule does not learn from status events
    return Evaluation([], state, bool(state.get("active", False)))


KIND = RuleKind("device_offline", DeviceOfflineParams, evaluate)
