"""The alarm lifecycle (ThingsBoard's) as data: which action moves which status where.

An alarm is active or cleared, and acknowledged or not, independently: acknowledging keeps
it active, clearing keeps its acknowledgement. `transition` is the one place that enforces
it; routes and the rule engine both go through it.
"""

from __future__ import annotations

from enum import StrEnum

from roadwatch.platform.errors import Conflict


class AlarmStatus(StrEnum):
    ACTIVE_UNACK = "ACTIVE_UNACK"
    ACTIVE_ACK = "ACTIVE_ACK"
    CLEARED_UNACK = "CLEARED_UNACK"
    CLEARED_ACK = "CLEARED_ACK"


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"
    INDETERMINATE = "INDETERMINATE"


class AlarmAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    CLEAR = "clear"


# (from, action) -> to; a pair not listed is refused with 409
TRANSITIONS: dict[tuple[AlarmStatus, AlarmAction], AlarmStatus] = {
    (AlarmStatus.ACTIVE_UNACK, AlarmAction.ACKNOWLEDGE): AlarmStatus.ACTIVE_ACK,
    (AlarmStatus.CLEARED_UNACK, AlarmAction.ACKNOWLEDGE): AlarmStatus.CLEARED_ACK,
    (AlarmStatus.ACTIVE_UNACK, AlarmAction.CLEAR): AlarmStatus.CLEARED_UNACK,
    (AlarmStatus.ACTIVE_ACK, AlarmAction.CLEAR): AlarmStatus.CLEARED_ACK,
}

# the permission a person needs for each action (the rule engine clears as `system`)
PERMISSIONS: dict[AlarmAction, str] = {
    AlarmAction.ACKNOWLEDGE: "alarms:write",
    AlarmAction.CLEAR: "alarms:write",
}

ACTIVE = frozenset({AlarmStatus.ACTIVE_UNACK, AlarmStatus.ACTIVE_ACK})


def transition(status: str, action: AlarmAction) -> AlarmStatus:
    current = AlarmStatus(status)
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s == current)
        raise Conflict(
            f"status: an alarm in {current.value} cannot be {action.value}d"
            + (f"; allowed: {', '.join(allowed)}" if allowed else ""),
            field="status",
        ) from None
