"""The detection lifecycle table: what moves where, and what is refused (409) naming what
would be allowed."""

from __future__ import annotations

import pytest

from roadwatch.platform.errors import Conflict
from roadwatch.traffic.detection.lifecycle import (
    OPEN,
    TRANSITIONS,
    DetectionAction,
    DetectionPhase,
    transition,
)


def test_the_paths_of_a_detection() -> None:
    assert transition("tentative", DetectionAction.CONFIRM) is DetectionPhase.CONFIRMED
    assert transition("tentative", DetectionAction.DROP) is DetectionPhase.DROPPED
    assert transition("confirmed", DetectionAction.CLEAR) is DetectionPhase.CLEARED
    for phase in OPEN:
        assert transition(phase.value, DetectionAction.DISMISS) is DetectionPhase.DISMISSED


@pytest.mark.parametrize(
    "phase", [DetectionPhase.CLEARED, DetectionPhase.DROPPED, DetectionPhase.DISMISSED]
)
def test_an_ended_detection_moves_no_more(phase: DetectionPhase) -> None:
    assert not [a for (p, a) in TRANSITIONS if p is phase]
    with pytest.raises(Conflict, match=f"a {phase.value} detection cannot be dismissed"):
        transition(phase.value, DetectionAction.DISMISS)


def test_a_refusal_names_what_is_allowed() -> None:
    with pytest.raises(Conflict) as caught:
        transition("confirmed", DetectionAction.DROP)
    assert "cannot be dropped; allowed: clear, dismiss" in str(caught.value)
