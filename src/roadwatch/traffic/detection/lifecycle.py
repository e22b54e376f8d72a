"""The detection lifecycle as data: which step moves a detection from which phase to which.

    tentative --confirm--> confirmed --clear--> cleared
    tentative --drop-----> dropped      (the pattern did not persist: never an incident)
    tentative | confirmed --dismiss--> dismissed   (a dispatcher marks a false alarm)

Algorithms drive confirm, clear and drop; people only dismiss. `transition` is the one
place that enforces it.
"""

from __future__ import annotations

from enum import StrEnum

from roadwatch.platform.errors import Conflict


class DetectionPhase(StrEnum):
    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"
    CLEARED = "cleared"
    DROPPED = "dropped"
    DISMISSED = "dismissed"


class DetectionAction(StrEnum):
    CONFIRM = "confirm"
    CLEAR = "clear"
    DROP = "drop"
    DISMISS = "dismiss"


TRANSITIONS: dict[tuple[DetectionPhase, DetectionAction], DetectionPhase] = {
    (DetectionPhase.TENTATIVE, DetectionAction.CONFIRM): DetectionPhase.CONFIRMED,
    (DetectionPhase.TENTATIVE, DetectionAction.DROP): DetectionPhase.DROPPED,
    (DetectionPhase.CONFIRMED, DetectionAction.CLEAR): DetectionPhase.CLEARED,
    (DetectionPhase.TENTATIVE, DetectionAction.DISMISS): DetectionPhase.DISMISSED,
    (DetectionPhase.CONFIRMED, DetectionAction.DISMISS): DetectionPhase.DISMISSED,
}

# the permission a person needs for an action (the others are the algorithms', as `system`):
# dispatchers and administrators handle alarms, and a detection is an automatic alarm
PERMISSIONS: dict[DetectionAction, str] = {DetectionAction.DISMISS: "alarms:write"}

_PAST = {
    DetectionAction.CONFIRM: "confirmed",
    DetectionAction.CLEAR: "cleared",
    DetectionAction.DROP: "dropped",
    DetectionAction.DISMISS: "dismissed",
}

OPEN = frozenset({DetectionPhase.TENTATIVE, DetectionPhase.CONFIRMED})


def transition(phase: str, action: DetectionAction) -> DetectionPhase:
    current = DetectionPhase(phase)
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        allowed = sorted(a.value for (p, a) in TRANSITIONS if p == current)
        raise Conflict(
            f"phase: a {current.value} detection cannot be {_PAST[action]}"
            + (f"; allowed: {', '.join(allowed)}" if allowed else ""),
            field="phase",
        ) from None
