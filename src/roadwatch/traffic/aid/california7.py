"""California algorithm #7 (Payne & Tignor, 1978) on one detector pair.

Decision tree, every interval (variables in `occupancy.py`, thresholds in `thresholds.py`):

    clear      -> tentative  when OCCDF >= T1 and OCCRDF >= T2 and DOCC < T3
    tentative  -> confirmed  when OCCRDF >= T2 has held for `california_confirm_intervals`
                             consecutive intervals (the onset counts; default 2)
    tentative  -> clear      when OCCRDF < T2 before that
    confirmed  -> clear      when OCCRDF < T2 for `california_clear_intervals` (default 1)

DOCC < T3 is what #7 adds to the original algorithm: a queue spilling back from further
downstream (recurrent congestion) fills the downstream station too, an incident between the
stations starves it.
"""

from __future__ import annotations

from typing import Any

from roadwatch.traffic.aid.occupancy import DownstreamHistory, Variables
from roadwatch.traffic.aid.pair import PairBase, StationInterval
from roadwatch.traffic.aid.phases import Persistence, Phase, Verdict, excess_confidence
from roadwatch.traffic.aid.thresholds import Thresholds


class California7(PairBase):
    name = "california7"

    def __init__(self, thresholds: Thresholds) -> None:
        super().__init__()
        self.t = thresholds
        self.history = DownstreamHistory()
        self.persistence = Persistence(
            thresholds.california_confirm_intervals, thresholds.california_clear_intervals
        )

    def readable(self, up: StationInterval, down: StationInterval) -> bool:
        return up.occupancy_pct is not None and down.occupancy_pct is not None

    def onset(self, v: Variables) -> bool:
        t = self.t
        return v.occdf >= t.occdf_pct and v.occrdf >= t.occrdf and v.docc < t.docc_pct

    def judge(self, up: StationInterval, down: StationInterval) -> Verdict:
        assert up.occupancy_pct is not None and down.occupancy_pct is not None
        v = self.history.variables(up.occupancy_pct, down.occupancy_pct)
        holds = v.occrdf >= self.t.occrdf
        phase = self.persistence.advance(self.onset(v), holds, holds)
        return verdict(phase, self.persistence, v, self.t, up.occupancy_pct)

    def state(self) -> dict[str, Any]:
        return {"persistence": self.persistence.snapshot(), "docc": list(self.history.values)}

    def load(self, state: dict[str, Any]) -> None:
        self.persistence.restore(state.get("persistence") or {})
        self.history = DownstreamHistory([float(x) for x in state.get("docc") or []])


def verdict(
    phase: Phase, persistence: Persistence, v: Variables, t: Thresholds, up_occ: float
) -> Verdict:
    """The California algorithms' verdict: confidence from how far OCCDF and OCCRDF are past
    T1 and T2, scaled by the way to confirmation while tentative."""
    evidence = v.evidence(up_occ)
    if phase is Phase.CLEAR:
        return Verdict(phase, 0.0, evidence)
    strength = excess_confidence(max(v.occdf, 0.0) / t.occdf_pct, max(v.occrdf, 0.0) / t.occrdf)
    return Verdict(phase, round(strength * persistence.progress(), 4), evidence)
