"""What an algorithm says about a pair each interval, and the persistence rule most of them
share: an onset test makes a detection tentative, a persistence test confirms it after some
consecutive intervals, and a continuation test keeps it until it fails long enough."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    CLEAR = "clear"
    TENTATIVE = "tentative"
    CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Verdict:
    phase: Phase
    # 0..1: how far past its thresholds the pattern is (0 when clear)
    confidence: float
    # the variables the decision was made on, named as in docs/traffic.md
    evidence: dict[str, float] = field(default_factory=dict)
    # True when this interval could not be judged (missing data, or an interval already seen):
    # the phase is the one held from before
    held: bool = False


CLEAR_VERDICT = Verdict(Phase.CLEAR, 0.0)


@dataclass
class Persistence:
    """The tentative -> confirmed -> clear counter.

    `confirm_intervals` is how many consecutive intervals the pattern must hold, counting the
    onset, before the detection is confirmed (2: tentative at the onset, confirmed at the
    next interval). `clear_intervals` is how many consecutive intervals the continuation test
    must fail before a confirmed detection clears. A tentative detection whose persistence
    test fails goes straight back to clear (it was never an incident).
    """

    confirm_intervals: int
    clear_intervals: int
    phase: Phase = Phase.CLEAR
    held_for: int = 0
    failed_for: int = 0

    def advance(self, onset: bool, persists: bool, continues: bool) -> Phase:
        if self.phase is Phase.CLEAR:
            if onset:
                self.held_for = 1
                self.failed_for = 0
                self.phase = Phase.TENTATIVE
                self._maybe_confirm()
        elif self.phase is Phase.TENTATIVE:
            if persists:
                self.held_for += 1
                self._maybe_confirm()
            else:
                self._reset()
        elif continues:
            self.failed_for = 0
        else:
            self.failed_for += 1
            if self.failed_for >= self.clear_intervals:
                self._reset()
        return self.phase

    def progress(self) -> float:
        """Share of the way to confirmation (1 once confirmed)."""
        if self.phase is Phase.CONFIRMED:
            return 1.0
        return min(1.0, self.held_for / max(1, self.confirm_intervals))

    def _maybe_confirm(self) -> None:
        if self.held_for >= self.confirm_intervals:
            self.phase = Phase.CONFIRMED

    def _reset(self) -> None:
        self.phase = Phase.CLEAR
        self.held_for = 0
        self.failed_for = 0

    def snapshot(self) -> dict[str, Any]:
        return {"phase": self.phase.value, "held_for": self.held_for, "failed_for": self.failed_for}

    def restore(self, state: dict[str, Any]) -> None:
        self.phase = Phase(state.get("phase", Phase.CLEAR.value))
        self.held_for = int(state.get("held_for", 0))
        self.failed_for = int(state.get("failed_for", 0))


def excess_confidence(*ratios: float) -> float:
    """0.5 when every measure sits exactly on its threshold, rising to 1 as the measures
    reach twice their thresholds (ratio = value / threshold, each counted up to 2)."""
    if not ratios:
        return 0.0
    excess = sum(min(max(r, 1.0), 2.0) - 1.0 for r in ratios) / len(ratios)
    return round(0.5 + 0.5 * excess, 4)
