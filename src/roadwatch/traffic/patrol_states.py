"""The patrol unit's status lifecycle as data: which status may follow which.

off_duty ↔ available → en_route → on_scene → available; a unit en route or on scene may
also be stood down (available) or sent somewhere else (en_route from on_scene), and any
unit not on a call may go off duty.
"""

from __future__ import annotations

from roadwatch.traffic.schemas import PatrolStatus as S

TRANSITIONS: dict[S, frozenset[S]] = {
    S.OFF_DUTY: frozenset({S.AVAILABLE}),
    S.AVAILABLE: frozenset({S.OFF_DUTY, S.EN_ROUTE}),
    S.EN_ROUTE: frozenset({S.ON_SCENE, S.AVAILABLE}),
    S.ON_SCENE: frozenset({S.AVAILABLE, S.EN_ROUTE}),
}


def allowed(current: S, target: S) -> bool:
    return target in TRANSITIONS[current]
